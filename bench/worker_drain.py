"""The worker stage alone: a backlog on the updates topic drained by 1, then 2 ``entitlement_worker``s.

Each drain gets a topic namespace of its own on the bench's database and broker. The workers start
first, and the drain waits until their consumer group is stable with every worker assigned (a worker
joining later would stop the others for a rebalance in the middle of the drain). Then the updates,
new activations of one user each, are put on the topic by our publisher, as ingest does, and much
faster than a worker applies them. The rate counts from the first applied update to the last, from
the rows' ``processed_at``; the CPU is the workers' user+system time over the same span, per update.
"""

import asyncio
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select

from apps.stack.processes import REPO_ROOT, free_port, settings_env
from bench.stack import BenchStack
from bench.workload import Products
from shared.db.models import ProcessedEvent
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider
from shared.messaging.entitlement_updates import EntitlementUpdatePublisher
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics, ensure_topics
from shared.settings import Settings

POLL_S = 0.1
DRAIN_TIMEOUT_S = 600.0
GROUP_TIMEOUT_S = 120.0


def drain_updates(products: Products, tag: str, count: int) -> list[EntitlementUpdate]:
    """``count`` activations of the bench's subscriptions, each for a user of its own."""
    now = datetime.now(UTC)
    updates = []
    for i in range(count):
        product = products.subscriptions[i % len(products.subscriptions)]
        user = f"{tag}-u{i}"
        updates.append(
            EntitlementUpdate(
                update_id=f"{tag}-e{i}",
                provider=Provider.REVENUECAT,
                provider_event_type="INITIAL_PURCHASE",
                user_id=user,
                provider_product_id=product,
                purchase_reference=f"{user}-{product}",
                status=EntitlementStatus.ACTIVE,
                occurred_at=now,
                activated_at=now,
                expires_at=now + timedelta(days=30),
            )
        )
    return updates


async def worker_drain(stack: BenchStack, products: Products, workers: int, count: int) -> dict[str, Any]:
    tag = f"drain{workers}-{uuid.uuid4().hex[:6]}"
    settings = stack.settings.with_values(namespace=f"{stack.settings.namespace}{tag}.")
    await ensure_topics(settings)
    topics = Topics(settings.namespace)
    children = [_start_worker(stack, settings, tag, i) for i in range(workers)]
    try:
        await _wait_until_assigned(settings.kafka_bootstrap, topics.group("entitlement-worker"), workers)
        await _publish(settings, topics.entitlement_updates, drain_updates(products, tag, count))
        print(f"[bench] worker drain, {workers} worker(s): {count} updates on the topic", flush=True)
        return await _measure(stack, children, tag, workers, count)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)


async def _wait_until_assigned(bootstrap: str, group: str, members: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + GROUP_TIMEOUT_S
        while time.monotonic() < deadline:
            (described,) = (await admin.describe_consumer_groups([group]))[0].to_object()["groups"]
            if described["state"] == "Stable" and len(described["members"]) == members:
                return
            await asyncio.sleep(POLL_S)
        raise TimeoutError(f"consumer group {group} did not settle with {members} member(s)")
    finally:
        await admin.close()


async def _publish(settings: Settings, topic: str, updates: list[EntitlementUpdate]) -> None:
    producer = create_producer(settings, linger_ms=5)
    await producer.start()
    try:
        publisher = EntitlementUpdatePublisher(producer, topic)
        for start in range(0, len(updates), 1000):
            await publisher.publish(updates[start : start + 1000])
    finally:
        await producer.stop()


def _start_worker(stack: BenchStack, settings: Settings, tag: str, index: int) -> subprocess.Popen[bytes]:
    env = settings_env(settings.with_values(worker_metrics_port=free_port()))
    log_file = (stack.log_dir / f"{tag}-worker-{index + 1}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "apps.cli.main", "serve", "worker"],
        env=env,
        cwd=REPO_ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def _cpu_s(children: list[subprocess.Popen[bytes]]) -> float:
    total = 0.0
    for child in children:
        try:
            times = psutil.Process(child.pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def _applied(stack: BenchStack, tag: str) -> tuple[int, datetime | None, datetime | None]:
    query = select(
        func.count(), func.min(ProcessedEvent.processed_at), func.max(ProcessedEvent.processed_at)
    ).where(ProcessedEvent.provider_event_id.like(f"{tag}-e%"))
    async with stack.sessions() as session:
        applied, first, last = (await session.execute(query)).one()
    return int(applied), first, last


async def _measure(
    stack: BenchStack, children: list[subprocess.Popen[bytes]], tag: str, workers: int, count: int
) -> dict[str, Any]:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    cpu_at_first: float | None = None
    applied_at_first = 0
    applied, first, last = 0, None, None
    while applied < count and time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise RuntimeError(f"a drain worker exited (logs: {stack.log_dir}/{tag}-worker-*.log)")
        await asyncio.sleep(POLL_S)
        applied, first, last = await _applied(stack, tag)
        if applied and cpu_at_first is None:
            cpu_at_first, applied_at_first = _cpu_s(children), applied
    cpu_used = _cpu_s(children) - (cpu_at_first or 0.0)
    span_s = (last - first).total_seconds() if first and last else 0.0
    measured = max(1, applied - applied_at_first)
    result = {
        "workers": workers,
        "updates": count,
        "applied": applied,
        "seconds": round(span_s, 2),
        "updates_per_s": round((applied - 1) / span_s, 1) if span_s > 0 else 0.0,
        "cpu_us_per_update": round(1e6 * cpu_used / measured),
    }
    print(
        f"[bench] worker drain, {workers} worker(s): {result['updates_per_s']} updates/s, "
        f"{result['cpu_us_per_update']} µs CPU/update ({applied}/{count} applied)",
        flush=True,
    )
    return result
