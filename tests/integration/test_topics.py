"""Topic creation against the real broker: dead letters keep their own retention, and the
durability settings reach every topic."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from apps.stack.processes import session_settings
from shared.messaging.topics import Topics, describe_topic_configs, ensure_topics
from shared.settings import Settings

pytestmark = [pytest.mark.kafka]

THIRTY_DAYS_MS = 30 * 86_400_000


@pytest.fixture
async def settings(infrastructure: None, run_id: str) -> AsyncIterator[Settings]:
    """A namespace of its own; its topics are deleted afterwards."""
    settings = session_settings(
        run_id,
        namespace=f"test-{run_id}.topics-{uuid.uuid4().hex[:6]}.",
        kafka_dead_letter_retention_ms=THIRTY_DAYS_MS,
    )
    yield settings
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(settings.namespace)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


async def _configs(settings: Settings, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        return await describe_topic_configs(admin, names, ["retention.ms", "min.insync.replicas"])
    finally:
        await admin.close()


async def test_dead_letter_topics_keep_their_own_retention_and_the_others_the_brokers(
    settings: Settings,
) -> None:
    await ensure_topics(settings)
    topics = Topics(settings.namespace)
    configs = await _configs(settings, topics.all())
    for name in topics.dead_letter_topics():
        assert configs[name] == {"retention.ms": str(THIRTY_DAYS_MS), "min.insync.replicas": "1"}
    for name in topics.main():
        assert configs[name]["retention.ms"] != str(THIRTY_DAYS_MS)
        assert configs[name]["min.insync.replicas"] == "1"


async def test_an_existing_dead_letter_topic_gets_the_long_retention(settings: Settings) -> None:
    topics = Topics(settings.namespace)
    dlq = Topics.dead_letters_of(topics.webhooks_raw)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:  # as an older release created it: the broker's 24 h
        await admin.create_topics([NewTopic(dlq, 2, 1, topic_configs={"retention.ms": "86400000"})])
    finally:
        await admin.close()

    await ensure_topics(settings)

    deadline = asyncio.get_running_loop().time() + 30
    while (await _configs(settings, [dlq])).get(dlq, {}).get("retention.ms") != str(THIRTY_DAYS_MS):
        # the broker applies an accepted config change through its metadata log, a moment later
        assert asyncio.get_running_loop().time() < deadline, "retention of the existing DLQ unchanged"
        await asyncio.sleep(0.1)
