"""Replaying dead letters against the real Kafka: a replay sends every letter that is waiting,
exactly once, and reports that count; letters that arrive later are the next replay's."""

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from shared.messaging.dead_letters import read_dead_letters, replay_dead_letters
from shared.messaging.topics import Topics
from shared.settings import Settings

pytestmark = [pytest.mark.kafka]

PARTITIONS = 4


@pytest.fixture
async def topic(infrastructure: None) -> AsyncIterator[str]:
    """A topic and its dead-letter topic of their own, deleted afterwards."""
    bootstrap = Settings().kafka_bootstrap
    name = f"test-replay-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (name, Topics.dead_letters_of(name))])
        yield name
        await admin.delete_topics([name, Topics.dead_letters_of(name)])
    finally:
        await admin.close()


async def _dead_letter(topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=Settings().kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(
                Topics.dead_letters_of(topic),
                value=value,
                key=value,
                headers=[("x-error", b"UnknownProductError: no pack maps"), ("x-attempts", b"1")],
            )
    finally:
        await producer.stop()


async def _everything_on(topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=Settings().kafka_bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values.extend(r.value or b"" for r in records)
        return values
    finally:
        await consumer.stop()


async def test_replay_sends_every_waiting_letter_once_and_reports_how_many(topic: str) -> None:
    letters = [f"letter-{i}-{uuid.uuid4().hex[:6]}".encode() for i in range(12)]
    await _dead_letter(topic, letters)
    group = f"replay-{uuid.uuid4().hex[:8]}"
    bootstrap = Settings().kafka_bootstrap

    assert len(await read_dead_letters(bootstrap, topic, 1000)) == len(letters)
    assert await replay_dead_letters(bootstrap, topic, group) == len(letters)
    assert await replay_dead_letters(bootstrap, topic, group) == 0

    later = [f"later-{uuid.uuid4().hex[:6]}".encode()]
    await _dead_letter(topic, later)
    assert await replay_dead_letters(bootstrap, topic, group) == 1
    assert sorted(await _everything_on(topic)) == sorted(letters + later)
    headers_kept = await read_dead_letters(bootstrap, topic, 1000)
    assert len(headers_kept) == len(letters) + 1  # replaying consumes nothing from the DLQ
