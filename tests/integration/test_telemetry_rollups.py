"""The telemetry consumer against the real Kafka and Postgres: every event counts once however often
it is delivered, and the stored rollups equal a recomputation from the topics read from the start."""

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.processes import REPO_ROOT, session_settings
from apps.stack.seed import upsert_pack
from services.telemetry.rollups import RollupKey, hour_of
from shared.connectors.registry import secret_specs
from shared.db.engine import create_engine, session_factory
from shared.db.models import CheckoutSessionRecord
from shared.db.telemetry_models import WEBHOOK_TO_ENTITLEMENT_MS
from shared.domain.packs import MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider
from shared.messaging.dead_letters import read_dead_letters
from shared.messaging.producer import create_producer
from shared.messaging.telemetry import TelemetryPublisher, TelemetryType
from shared.messaging.topics import Topics, ensure_topics
from shared.security.pseudonyms import Pseudonymizer
from shared.security.secrets import build_secret_provider
from shared.settings import Settings
from tests.infra.own_database import database_url, own_database
from tests.infra.telemetry import consumed_everything, replayed_rollups, stored_rollups, telemetry_consumer
from tests.infra.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
Data = dict[str, str | int | list[str] | None]
PAYMENT_HASH = "ab" * 32
SETTLED_UPDATE = f"lightning:{PAYMENT_HASH}:settled"


@pytest.fixture
async def settings(infrastructure: None, run_id: str) -> AsyncIterator[Settings]:
    """A database and a topic namespace of this test's own (its consumer starts from nothing)."""
    async with own_database(run_id) as name:
        own = session_settings(f"{run_id}-tel-{uuid.uuid4().hex[:6]}", database_url=database_url(name))
        await ensure_topics(own)
        yield own


async def _pack_with_a_checkout(sessions: async_sessionmaker[AsyncSession]) -> MicroSaasPack:
    suffix = uuid.uuid4().hex[:8]
    pack = MicroSaasPack(
        id=uuid.uuid4(), slug=f"tel-pack-{suffix}", display_name="T", features=["a.b"], default_price=499
    )
    listing = ProviderProduct(
        provider=Provider.LIGHTNING, provider_product_id=f"ln-{suffix}", currency="USD", price=499
    )
    async with sessions() as session, session.begin():
        await upsert_pack(session, pack, [listing])
        session.add(
            CheckoutSessionRecord(
                id=uuid.uuid4(),
                user_id="alice",
                catalog_id=pack.id,
                provider="lightning",
                purchase_reference=PAYMENT_HASH,
                status="open",
                details={"amountMinor": 499, "currency": "USD", "amountMsat": 21_000_000},
            )
        )
    return pack


def _entitlement_event(pack: MicroSaasPack, kind: str, provider: str, reference: str, event_id: str) -> bytes:
    data = {
        "user_id": "alice",
        "pack_id": str(pack.id),
        "pack_slug": pack.slug,
        "source_provider": provider,
        "purchase_reference": reference,
        "provider_event_id": event_id,
    }
    time_text = datetime.now(UTC).isoformat()
    return orjson.dumps({"id": str(uuid.uuid4()), "type": kind, "time": time_text, "data": data})


async def _all_consumed(settings: Settings) -> bool:
    topics = Topics(settings.namespace)
    return await consumed_everything(
        settings, topics.group("telemetry"), topics.telemetry
    ) and await consumed_everything(settings, topics.group("telemetry-entitlements"), topics.entitlements)


async def test_rollups_count_each_event_once_and_equal_a_replay_of_the_topics(settings: Settings) -> None:
    topics = Topics(settings.namespace)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    pack = await _pack_with_a_checkout(sessions)
    pseudonyms = Pseudonymizer(build_secret_provider(settings, secret_specs()))
    producer = create_producer(settings)
    await producer.start()
    publisher = TelemetryPublisher(
        producer, topics.telemetry, pseudonyms, source="tests", max_pending=100, send_timeout_s=30
    )
    received_ms = int(time.time() * 1000) - 1500
    emitted: list[tuple[TelemetryType, Data, str | None, str, list[str]]] = [
        (TelemetryType.PACK_VIEWED, {"pack": pack.slug, "market": "DE"}, "alice", str(uuid.uuid4()), []),
        (TelemetryType.PACK_VIEWED, {"pack": pack.slug, "market": "DE"}, "bob", str(uuid.uuid4()), []),
        (TelemetryType.PACK_VIEWED, {"pack": pack.slug, "market": None}, None, str(uuid.uuid4()), []),
        (
            TelemetryType.CHECKOUT_STARTED,
            {
                "pack": pack.slug,
                "provider": "lightning",
                "market": "DE",
                "currency": "USD",
                "amountMinor": 499,
            },
            "alice",
            str(uuid.uuid4()),
            [],
        ),
        (
            TelemetryType.WEBHOOK_RECEIVED,
            {"provider": "lightning", "acceptLatencyMs": 7},
            None,
            str(uuid.uuid4()),
            [],
        ),
        (
            TelemetryType.WEBHOOK_CONFIRMED,
            {"provider": "lightning", "receivedAtMs": received_ms},
            None,
            str(uuid.uuid4()),
            [SETTLED_UPDATE],
        ),
    ]
    entitlements = [
        _entitlement_event(pack, "entitlement.activated", "lightning", PAYMENT_HASH, SETTLED_UPDATE),
        _entitlement_event(pack, "entitlement.activated", "revenuecat", "tx-1", "evt-1:alice:p"),
        _entitlement_event(pack, "entitlement.revoked", "revenuecat", "tx-1", "evt-2:alice:p"),
    ]

    async def deliver_everything_twice() -> None:
        for _ in range(2):  # the same ids again: what a redelivery looks like to the consumer
            for type_, data, user, event_id, keys in emitted:
                publisher.emit(type_, data, user_id=user, event_id=event_id, pseudonymous_keys=keys)
            await publisher.drain(timeout_s=30)
            for value in entitlements:
                await producer.send_and_wait(topics.entitlements, value=value, key=b"alice")

    try:
        await deliver_everything_twice()
        with telemetry_consumer(
            settings, REPO_ROOT / ".local" / "test-logs" / f"{settings.namespace}telemetry.log"
        ):
            await eventually(lambda: _all_consumed(settings), timeout_s=90, what="telemetry consumed")
            await deliver_everything_twice()
            await eventually(lambda: _all_consumed(settings), timeout_s=90, what="redeliveries consumed")
        async with sessions() as session:
            stored, stored_buckets = await stored_rollups(session)
            replayed, replayed_buckets = await replayed_rollups(session, settings, pseudonyms)
    finally:
        await producer.stop()
        await engine.dispose()

    assert stored == replayed
    assert stored_buckets == replayed_buckets
    hour = hour_of(datetime.now(UTC))
    views = {k: v for k, v in stored.items() if k.metric == "pack.viewed"}
    assert sum(events for events, _, _ in views.values()) == 3
    assert stored[RollupKey(hour, "pack.viewed", pack.slug, market="DE")][0] == 2
    assert stored[RollupKey(hour, "checkout.started", pack.slug, "lightning", "DE", "USD")] == (1, 499, 0)
    assert stored[RollupKey(hour, "invoice.settled", pack.slug, "lightning", currency="USD")] == (
        1,
        499,
        21_000_000,
    )
    assert stored[RollupKey(hour, "checkout.completed", pack.slug, "revenuecat")] == (1, 0, 0)
    assert stored[RollupKey(hour, "entitlement.activated", pack.slug, "lightning")][0] == 1
    assert stored[RollupKey(hour, "entitlement.revoked", pack.slug, "revenuecat")][0] == 1
    latencies = [key for key in stored_buckets if key[1] == WEBHOOK_TO_ENTITLEMENT_MS]
    assert [(key[2], stored_buckets[key]) for key in latencies] == [("lightning", 1)]


async def test_a_poison_record_is_dead_lettered_alone_and_its_batch_is_counted(settings: Settings) -> None:
    """Records published before the consumer starts arrive in one batch: the batch's transaction
    fails on the poison record, and each record is then handled alone."""
    topics = Topics(settings.namespace)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    pack = await _pack_with_a_checkout(sessions)
    producer = create_producer(settings)
    await producer.start()
    publisher = TelemetryPublisher(
        producer,
        topics.telemetry,
        Pseudonymizer(build_secret_provider(settings, secret_specs())),
        source="tests",
        max_pending=100,
        send_timeout_s=30,
    )
    poison = b'{"specversion": "1.0", "id": "not-an-event"}'
    try:
        publisher.emit(TelemetryType.PACK_VIEWED, {"pack": pack.slug, "market": "DE"}, user_id="alice")
        await publisher.drain(timeout_s=30)
        await producer.send_and_wait(topics.telemetry, value=poison, key=b"alice")
        publisher.emit(TelemetryType.PACK_VIEWED, {"pack": pack.slug, "market": "DE"}, user_id="bob")
        await publisher.drain(timeout_s=30)
        with telemetry_consumer(
            settings, REPO_ROOT / ".local" / "test-logs" / f"{settings.namespace}telemetry.log"
        ):
            await eventually(
                lambda: consumed_everything(settings, topics.group("telemetry"), topics.telemetry),
                timeout_s=90,
                what="telemetry consumed",
            )
        async with sessions() as session:
            stored, _ = await stored_rollups(session)
    finally:
        await producer.stop()
        await engine.dispose()

    assert stored[RollupKey(hour_of(datetime.now(UTC)), "pack.viewed", pack.slug, market="DE")][0] == 2
    letters = await read_dead_letters(settings.kafka_bootstrap, topics.telemetry, limit=10)
    assert [letter.value for letter in letters] == [poison]
