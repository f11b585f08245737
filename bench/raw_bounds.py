"""Raw bounds of this machine: aiokafka alone, and the worker's transaction with asyncpg alone."""

import asyncio
import struct
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import select

from bench.stack import BenchStack
from bench.stats import latency_summary_ms, rate
from shared.db.models import BillingCatalog
from shared.messaging.producer import create_producer

STAMP = struct.Struct("!d")


async def create_bench_topic(stack: BenchStack, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, stack.settings.kafka_partitions, 1)])
    finally:
        await admin.close()


async def kafka_round_trip(stack: BenchStack, size: int, count: int) -> dict[str, Any]:
    """Produce ``count`` messages of ``size`` bytes (our producer settings: acks=all, idempotent) as fast
    as the client pipelines them, while one consumer reads them; each carries its send time."""
    topic = f"{stack.settings.namespace}raw-bound-{size}"
    await create_bench_topic(stack, topic)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=stack.settings.kafka_bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    producer = create_producer(stack.settings)
    await consumer.start()
    await producer.start()
    latencies: list[float] = []
    try:
        padding = b"x" * max(0, size - STAMP.size)

        async def consume() -> None:
            while len(latencies) < count:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    now = time.time()
                    latencies.extend(now - STAMP.unpack_from(r.value or b"")[0] for r in records)

        reader = asyncio.create_task(consume())
        started = time.perf_counter()
        pending = []
        for i in range(count):
            value = STAMP.pack(time.time()) + padding
            pending.append(await producer.send(topic, value=value, key=str(i % 64).encode()))
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        await asyncio.wait_for(reader, timeout=120)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()
    return {"size_bytes": size, "messages": count, "msgs_per_s": rate(count, elapsed)} | latency_summary_ms(
        latencies
    )


# The worker's write (shared/db/entitlements.py) as plain SQL: claim the event, lock and upsert the
# entitlement, write the outbox row. Outbox rows are born published so the relay ignores them.
CLAIM = (
    "INSERT INTO processed_events (provider, provider_event_id, processed_at) VALUES ('bench', $1, now()) "
    "ON CONFLICT DO NOTHING RETURNING provider"
)
LOCK = (
    "SELECT id, status, expires_at FROM user_entitlements WHERE user_id = $1 AND catalog_id = $2 "
    "AND source_provider = 'bench' AND purchase_reference = $3 FOR UPDATE"
)
UPSERT = (
    "INSERT INTO user_entitlements (id, user_id, catalog_id, source_provider, purchase_reference, status, "
    "activated_at, expires_at, last_event_at, status_reason, updated_at) "
    "VALUES ($1, $2, $3, 'bench', $4, 'active', now(), $5, now(), NULL, now()) "
    "ON CONFLICT (user_id, catalog_id, source_provider, purchase_reference) DO UPDATE SET "
    "status = EXCLUDED.status, expires_at = EXCLUDED.expires_at, last_event_at = EXCLUDED.last_event_at, "
    "updated_at = now() RETURNING id"
)
OUTBOX = (
    "INSERT INTO outbox (id, topic, key, event_type, payload, created_at, published_at, attempts) "
    "VALUES ($1, 'bench.raw-bound', $2, 'entitlement.activated', $3, now(), now(), 0)"
)


async def postgres_transactions(stack: BenchStack, count: int, connections: int) -> dict[str, Any]:
    """``count`` worker-shaped transactions over ``connections`` connections, as fast as they go."""
    async with stack.sessions() as session:
        catalog_id = (await session.execute(select(BillingCatalog.id).limit(1))).scalar_one()
    pool = await asyncpg.create_pool(stack.pg_dsn, min_size=connections, max_size=connections)
    payload = orjson.dumps({"data": {"status": "active"}, "padding": "x" * 400}).decode()
    expires = datetime.now(UTC) + timedelta(days=30)
    latencies: list[float] = []
    run = uuid.uuid4().hex[:6]

    async def one(i: int) -> None:
        user = f"raw-{run}-{i % 5000}"
        began = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(CLAIM, f"{run}:{i}") is None:
                return
            await conn.fetchrow(LOCK, user, catalog_id, "p")
            row_id = await conn.fetchval(UPSERT, uuid.uuid4(), user, catalog_id, "p", expires)
            await conn.execute(OUTBOX, uuid.uuid4(), user, payload.replace("active", str(row_id), 1))
        latencies.append(time.perf_counter() - began)

    async def lane(start: int) -> None:
        for i in range(start, count, connections):
            await one(i)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(lane(c) for c in range(connections)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    return {"connections": connections, "transactions": count, "tx_per_s": rate(count, elapsed)} | (
        latency_summary_ms(latencies)
    )
