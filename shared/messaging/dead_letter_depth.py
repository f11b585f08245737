"""How many dead letters wait, per DLQ topic: end offset minus first offset (retention keeps them)."""

import asyncio

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from shared.messaging.topics import Topics


async def dead_letter_depth(bootstrap: str, topics: Topics, timeout_s: float = 3.0) -> dict[str, int]:
    """topic → letters kept; raises (``TimeoutError``, a ``KafkaError``) when Kafka cannot tell."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await asyncio.wait_for(consumer.start(), timeout_s)
    try:
        await asyncio.wait_for(
            consumer.topics(), timeout_s
        )  # every topic's metadata, not just subscribed ones
        depth: dict[str, int] = {}
        for topic in topics.dead_letter_topics():
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            if not partitions:
                depth[topic] = 0
                continue
            first = await asyncio.wait_for(consumer.beginning_offsets(partitions), timeout_s)
            ends = await asyncio.wait_for(consumer.end_offsets(partitions), timeout_s)
            depth[topic] = sum(ends[tp] - first[tp] for tp in partitions)
        return depth
    finally:
        await consumer.stop()
