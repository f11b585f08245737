"""How many dead letters wait, per DLQ topic: end offset minus first offset (retention keeps them)."""

import asyncio

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from shared.messaging.topics import Topics


async def dead_letter_depth(bootstrap: str, topics: Topics, timeout_s: float = 3.0) -> dict[str, int]:
    """topic → letters kept; raises (``TimeoutError``, a ``KafkaError``) when Kafka cannot tell."""
    return await asyncio.wait_for(_depth(bootstrap, topics.dead_letter_topics()), timeout_s)


async def _depth(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    partitions = {
        d["topic"]: [TopicPartition(d["topic"], p["partition"]) for p in d["partitions"]]
        for d in described
        if d["topic"] in names
    }
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        every = [tp for tps in partitions.values() for tp in tps]
        first = await consumer.beginning_offsets(every) if every else {}
        ends = await consumer.end_offsets(every) if every else {}
    finally:
        await consumer.stop()
    return {name: sum(ends[tp] - first[tp] for tp in partitions.get(name, [])) for name in names}
