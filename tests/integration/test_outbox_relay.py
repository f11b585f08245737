"""The outbox relay against the real Postgres, Kafka and Redis: Redis down does not stop
publication and leaves no revoked user allowed; a failing row blocks only its own key; no
advisory lock outlives a round; a round whose marking failed is not sent again, by it or by another
relay. Each test has its own database (one relay per database)."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaTimeoutError
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.processes import session_settings
from shared.catalog.grants import FeatureGrant
from shared.db.engine import create_engine, session_factory
from shared.db.models import Outbox
from shared.entitlement_cache import FeatureCache
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics, ensure_topics
from shared.redis_client import create_redis
from shared.settings import Settings
from tests.infra.closable_proxy import ClosableProxy
from tests.infra.own_database import database_url, own_database
from tests.infra.topic_collector import TopicCollector

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


@dataclass
class RelayBench:
    settings: Settings
    topics: Topics
    sessions: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    published: TopicCollector
    database: str


@pytest.fixture
async def bench(infrastructure: None, run_id: str) -> AsyncIterator[RelayBench]:
    """Only the real stores: the relay runs in this process, no service of the session's stack."""
    async with own_database(run_id) as database:
        namespace = f"test-{run_id}.relay-{uuid.uuid4().hex[:6]}."
        settings = session_settings(run_id, namespace=namespace, database_url=database_url(database))
        await ensure_topics(settings)
        topics = Topics(namespace)
        engine = create_engine(settings.database_url)
        producer = create_producer(settings)
        await producer.start()
        collector = TopicCollector(settings.kafka_bootstrap, topics.all())
        await collector.start()
        try:
            yield RelayBench(settings, topics, session_factory(engine), producer, collector, database)
        finally:
            await collector.stop()
            await producer.stop()
            await engine.dispose()


async def _running(relay: OutboxRelay) -> asyncio.Task[None]:
    return asyncio.create_task(relay.run_forever())


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _relay(bench: RelayBench, cache: FeatureCache, *, topic_wait_s: float = 2.0) -> OutboxRelay:
    return OutboxRelay(
        bench.sessions,
        bench.producer,
        cache,
        kafka_bootstrap=bench.settings.kafka_bootstrap,
        batch_size=50,
        idle_interval_s=0.05,
        topic_wait_s=topic_wait_s,
    )


async def _write(bench: RelayBench, rows: list[tuple[str, str, str]]) -> list[Outbox]:
    """Outbox rows as the worker writes them: (topic, user, event type), in this order."""
    written = [
        Outbox(
            id=uuid.uuid4(),
            topic=topic,
            key=user,
            event_type=event_type,
            payload={"type": event_type, "subject": user, "time": datetime.now(UTC).isoformat()},
        )
        for topic, user, event_type in rows
    ]
    async with bench.sessions() as session, session.begin():
        for row in written:
            session.add(row)
            await session.flush()  # one at a time: seq follows the list
    return written


async def _eventually(probe: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{what} not within {timeout_s}s")
        await asyncio.sleep(0.05)


def _ids_on(bench: RelayBench, topic: str) -> list[str]:
    return [r.headers["ce_id"].decode() for r in bench.published.on(topic)]


async def _advisory_locks_held_by_idle_sessions(bench: RelayBench) -> int:
    async with bench.sessions() as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND a.datname = :db AND a.state = 'idle'"
            ),
            {"db": bench.database},
        )
    return int(count or 0)


async def test_relay_keeps_publishing_while_redis_is_down_and_outdates_the_cache_once_it_is_back(
    bench: RelayBench,
) -> None:
    entitlements = bench.topics.entitlements
    revoked = f"user-{uuid.uuid4().hex[:10]}"
    real_redis = Redis.from_url(bench.settings.redis_url)
    readers_cache = FeatureCache(real_redis, bench.settings.namespace)
    grant = FeatureGrant(feature="try_on.3d", pack_slug="try-on", via_bundle=None, expires_at=None)

    async def allowed() -> list[FeatureGrant]:
        return [grant]

    async def revoked_now() -> list[FeatureGrant]:
        return []

    assert await readers_cache.grants(revoked, allowed) == [grant]  # cached while still allowed
    redis_proxy = ClosableProxy("127.0.0.1", int(bench.settings.redis_url.rsplit(":", 1)[1].split("/")[0]))
    relay_redis = create_redis(bench.settings, f"redis://127.0.0.1:{redis_proxy.port}/0")
    relay = await _running(_relay(bench, FeatureCache(relay_redis, bench.settings.namespace)))
    try:
        during = await _write(
            bench,
            [(entitlements, revoked, "entitlement.revoked")]
            + [(entitlements, f"user-{uuid.uuid4().hex[:10]}", "entitlement.activated") for _ in range(10)],
        )
        await _eventually(
            lambda: _all_published(bench, entitlements, during), "publication while Redis is down"
        )
        assert await readers_cache.grants(revoked, revoked_now) == [grant]  # stale: nobody could invalidate

        await redis_proxy.open()
        await _eventually(
            lambda: _served(readers_cache, revoked, revoked_now, []), "the revoked user no longer allowed"
        )
        after = await _write(bench, [(entitlements, revoked, "entitlement.activated")])
        await _eventually(
            lambda: _all_published(bench, entitlements, after), "publication after Redis is back"
        )
    finally:
        await _stop(relay)
        await redis_proxy.close()
        await relay_redis.aclose()
        await real_redis.aclose()
    await bench.published.caught_up()
    ids = _ids_on(bench, entitlements)
    assert sorted(ids) == sorted(str(row.id) for row in during + after)  # each once
    assert await _advisory_locks_held_by_idle_sessions(bench) == 0


async def test_row_for_a_missing_topic_records_its_error_and_blocks_only_its_own_user(
    bench: RelayBench,
) -> None:
    entitlements = bench.topics.entitlements
    missing = f"{bench.settings.namespace}billing.no-such-topic"
    blocked_user, other_user = f"user-{uuid.uuid4().hex[:10]}", f"user-{uuid.uuid4().hex[:10]}"
    redis = create_redis(bench.settings)
    relay = await _running(_relay(bench, FeatureCache(redis, bench.settings.namespace), topic_wait_s=0.5))
    try:
        failing, behind_it, other = await _write(
            bench,
            [
                (missing, blocked_user, "entitlement.activated"),
                (entitlements, blocked_user, "entitlement.revoked"),
                (entitlements, other_user, "entitlement.activated"),
            ],
        )
        await _eventually(lambda: _all_published(bench, entitlements, [other]), "the other user's event")
        await _eventually(lambda: _has_error(bench, failing), "last_error on the failing row")
        stored = await _stored(bench, failing)
        assert stored.published_at is None and stored.attempts >= 1
        assert "no-such-topic" in (stored.last_error or "")
        assert (await _stored(bench, behind_it)).published_at is None  # per-user order kept
        assert str(behind_it.id) not in _ids_on(bench, entitlements)
        assert await _advisory_locks_held_by_idle_sessions(bench) == 0

        await _create_topic(bench.settings.kafka_bootstrap, missing)
        await _eventually(
            lambda: _all_published(bench, entitlements, [behind_it]),
            "the blocked user's events",
            timeout_s=60,
        )
        assert (await _stored(bench, failing)).published_at is not None
    finally:
        await _stop(relay)
        await redis.aclose()


async def _all_published(bench: RelayBench, topic: str, rows: list[Outbox]) -> bool:
    return {str(row.id) for row in rows} <= set(_ids_on(bench, topic))


async def _served(
    cache: FeatureCache,
    user: str,
    load: Callable[[], Awaitable[list[FeatureGrant]]],
    expected: list[FeatureGrant],
) -> bool:
    return await cache.grants(user, load) == expected


async def _stored(bench: RelayBench, row: Outbox) -> Outbox:
    async with bench.sessions() as session:
        return (await session.execute(select(Outbox).where(Outbox.id == row.id))).scalar_one()


async def _has_error(bench: RelayBench, row: Outbox) -> bool:
    return (await _stored(bench, row)).last_error is not None


async def _create_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


class _CutsDatabaseAfterFirstSend:
    """The relay's producer, closing the relay's Postgres proxy once the first send is acked:
    the round's sends reach Kafka, its marking of the rows cannot commit."""

    def __init__(self, producer: AIOKafkaProducer, database_proxy: ClosableProxy) -> None:
        self._producer = producer
        self._proxy = database_proxy
        self._cut = False

    async def partitions_for(self, topic: str) -> set[int]:
        return await self._producer.partitions_for(topic)  # type: ignore[no-any-return]

    async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        delivery: asyncio.Future[Any] = await self._producer.send(*args, **kwargs)
        await delivery
        if not self._cut:
            self._cut = True
            await self._proxy.close()
        return delivery


async def _proxied_relay(bench: RelayBench, redis: Redis) -> tuple[OutboxRelay, ClosableProxy]:
    """A relay whose database connection goes through a proxy and is cut after its first send."""
    proxy = ClosableProxy("127.0.0.1", 55432)
    await proxy.open()
    engine = create_engine(database_url(bench.database, port=proxy.port))
    producer = cast(AIOKafkaProducer, _CutsDatabaseAfterFirstSend(bench.producer, proxy))
    relay = OutboxRelay(
        session_factory(engine),
        producer,
        FeatureCache(redis, bench.settings.namespace),
        kafka_bootstrap=bench.settings.kafka_bootstrap,
        batch_size=50,
        idle_interval_s=0.05,
        topic_wait_s=2.0,
    )
    return relay, proxy


async def _users_rows(bench: RelayBench, users: int, per_user: int) -> list[Outbox]:
    names = [f"user-{uuid.uuid4().hex[:10]}" for _ in range(users)]
    topic = bench.topics.entitlements
    rows = [(topic, name, "entitlement.activated") for _ in range(per_user) for name in names]
    return await _write(bench, rows)


async def _each_published_once(bench: RelayBench, rows: list[Outbox]) -> None:
    await bench.published.caught_up()
    ids = _ids_on(bench, bench.topics.entitlements)
    assert sorted(ids) == sorted(str(row.id) for row in rows)  # every row, none twice
    for row in rows:
        assert (await _stored(bench, row)).published_at is not None


async def test_a_relay_whose_marking_failed_does_not_send_the_round_again(bench: RelayBench) -> None:
    redis = create_redis(bench.settings)
    relay, proxy = await _proxied_relay(bench, redis)
    try:
        rows = await _users_rows(bench, users=5, per_user=4)
        with pytest.raises(Exception):  # noqa: B017 - whatever the cut connection raises
            await relay.publish_pending()
        await bench.published.caught_up()
        assert len(_ids_on(bench, bench.topics.entitlements)) == len(rows)  # sent, not marked

        await proxy.open()
        await _eventually(lambda: _round_published(relay), "a round once Postgres is back")
        await _each_published_once(bench, rows)
    finally:
        await proxy.close()
        await redis.aclose()


async def test_a_relay_notices_that_another_ran_a_round_it_could_not_commit(bench: RelayBench) -> None:
    redis = create_redis(bench.settings)
    survivor = _relay(bench, FeatureCache(redis, bench.settings.namespace))
    crashed, proxy = await _proxied_relay(bench, redis)
    try:
        first = await _users_rows(bench, users=3, per_user=2)
        assert await survivor.publish_pending() == len(first)  # a clean round: it vouches for it
        second = await _users_rows(bench, users=3, per_user=2)
        with pytest.raises(Exception):  # noqa: B017 - the other relay dies mid-round
            await crashed.publish_pending()

        # The cut connection may hold the relay lock until the server notices it is gone: retry.
        await _eventually(lambda: _all_marked(survivor, bench, second), "the survivor's round")
        await _each_published_once(bench, first + second)
    finally:
        await proxy.close()
        await redis.aclose()


async def _round_published(relay: OutboxRelay) -> bool:
    try:
        await relay.publish_pending()
    except Exception:  # the pool may still hand out a connection the proxy cut
        return False
    return True


class _LosesTheFirstAck:
    """The relay's producer, whose first send reaches Kafka but answers as if its ack was lost."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self.lost = 0

    async def partitions_for(self, topic: str) -> set[int]:
        return await self._producer.partitions_for(topic)  # type: ignore[no-any-return]

    async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        delivery: asyncio.Future[Any] = await self._producer.send(*args, **kwargs)
        await delivery
        if self.lost:
            return delivery
        self.lost += 1
        lost_ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        lost_ack.set_exception(KafkaTimeoutError("ack not received (injected after a real send)"))
        return lost_ack


async def test_a_send_whose_ack_was_lost_is_not_sent_again(bench: RelayBench) -> None:
    redis = create_redis(bench.settings)
    producer = _LosesTheFirstAck(bench.producer)
    relay = OutboxRelay(
        bench.sessions,
        cast(AIOKafkaProducer, producer),
        FeatureCache(redis, bench.settings.namespace),
        kafka_bootstrap=bench.settings.kafka_bootstrap,
        batch_size=50,
        idle_interval_s=0.05,
        topic_wait_s=2.0,
    )
    try:
        rows = await _users_rows(bench, users=3, per_user=3)
        await relay.publish_pending()  # one send "fails": its key waits, the others are marked
        assert producer.lost == 1
        waiting = [stored for row in rows if (stored := await _stored(bench, row)).published_at is None]
        assert len({row.key for row in waiting}) == 1  # that key's rows wait behind its "failed" head
        assert "KafkaTimeoutError" in (waiting[0].last_error or "")

        await _eventually(lambda: _all_marked(relay, bench, rows), "every row marked published")
        await _each_published_once(bench, rows)
    finally:
        await redis.aclose()


async def _all_marked(relay: OutboxRelay, bench: RelayBench, rows: list[Outbox]) -> bool:
    """One more round of ``relay``; True once every row is marked published."""
    await relay.publish_pending()
    return all([(await _stored(bench, row)).published_at is not None for row in rows])
