"""The backlog collectors against the real broker and database: lag per group and partition from
committed offsets, dead letters counted past the replay group's progress, the outbox's oldest row."""

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from sqlalchemy import text

from apps.stack.processes import session_settings
from shared.backlog_metrics.kafka_backlog import REPLAY_GROUP, KafkaBacklog, PartitionLag
from shared.backlog_metrics.outbox_backlog import OutboxBacklog, outbox_backlog
from shared.db.engine import create_engine, session_factory
from shared.messaging.topics import Topics, ensure_topics
from shared.settings import Settings
from tests.infra.own_database import database_url, own_database

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

INSERT_ROW = text(
    "INSERT INTO outbox (id, topic, key, event_type, payload, attempts, created_at, published_at) "
    "VALUES (:id, 't', 'k', 'e', '{}', 0, now() - make_interval(secs => :age), "
    "CASE WHEN :published THEN now() END)"
)


@pytest.fixture
async def settings(infrastructure: None, run_id: str) -> AsyncIterator[Settings]:
    """A namespace of its own (two partitions per topic); its topics are deleted afterwards."""
    settings = session_settings(run_id, namespace=f"test-{run_id}.backlog-{uuid.uuid4().hex[:6]}.")
    await ensure_topics(settings)
    yield settings
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([t for t in await admin.list_topics() if t.startswith(settings.namespace)])
    finally:
        await admin.close()


async def _produce(settings: Settings, topic: str, partition: int, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, value=b"%d" % n, partition=partition)
    finally:
        await producer.stop()


async def _commit(settings: Settings, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def test_lag_per_partition_of_this_deployments_groups_only(settings: Settings) -> None:
    topics = Topics(settings.namespace)
    updates = topics.entitlement_updates
    await _produce(settings, updates, 0, 3)
    await _produce(settings, updates, 1, 2)
    worker = topics.group("entitlement-worker")
    await _commit(settings, worker, {TopicPartition(updates, 0): 1})  # partition 1: never committed
    # Another deployment nested in this namespace, and the replay group: neither is a consumer's lag.
    await _commit(settings, f"{settings.namespace}other.billing-x", {TopicPartition(updates, 0): 0})
    await _commit(settings, topics.group(REPLAY_GROUP), {TopicPartition(updates, 0): 0})
    backlog = KafkaBacklog(settings.kafka_bootstrap, topics)
    try:
        lags = await backlog.consumer_lag()
    finally:
        await backlog.close()
    assert lags == [PartitionLag(worker, updates, 0, 2), PartitionLag(worker, updates, 1, 2)]


async def test_dead_letter_depth_counts_what_the_replay_group_has_not_replayed(settings: Settings) -> None:
    topics = Topics(settings.namespace)
    raw_dlq = Topics.dead_letters_of(topics.webhooks_raw)
    await _produce(settings, raw_dlq, 0, 2)
    await _produce(settings, raw_dlq, 1, 1)
    await _commit(settings, topics.group(REPLAY_GROUP), {TopicPartition(raw_dlq, 0): 2})
    backlog = KafkaBacklog(settings.kafka_bootstrap, topics)
    try:
        depth = await backlog.dead_letter_depth()
    finally:
        await backlog.close()
    assert depth == {topics.webhooks_raw: 1} | {t: 0 for t in topics.main() if t != topics.webhooks_raw}


async def test_an_unreachable_broker_fails_the_read_instead_of_hanging(settings: Settings) -> None:
    backlog = KafkaBacklog("127.0.0.1:1", Topics(settings.namespace))
    with pytest.raises(Exception):  # noqa: B017 (aiokafka's connection error, whichever it is)
        await backlog.dead_letter_depth()
    await backlog.close()


async def test_outbox_backlog_counts_unpublished_rows_and_the_oldest_age(run_id: str) -> None:
    async with own_database(run_id) as name:
        engine = create_engine(database_url(name))
        try:
            sessions = session_factory(engine)
            assert await outbox_backlog(sessions) == OutboxBacklog(0, 0.0)
            async with sessions() as session, session.begin():
                for age_s, published in ((120, False), (30, False), (600, True)):
                    await session.execute(
                        INSERT_ROW, {"id": uuid.uuid4(), "age": age_s, "published": published}
                    )
            backlog = await outbox_backlog(sessions)
        finally:
            await engine.dispose()
    assert backlog.rows == 2 and 120 <= backlog.oldest_age_s < 600
