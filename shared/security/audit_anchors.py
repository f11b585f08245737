"""The audit chain's head, anchored outside the database on a Kafka topic.

Someone who can rewrite the database can delete the newest sealed rows and leave an intact, shorter
chain; an anchor published earlier still names the removed position and its hash, and the database
cannot take it back. The sealer publishes the head whenever it advances and again every
``republish_s`` (so the newest anchor outlives the topic's retention). Verification reads only the
newest anchor: every older one is a prefix of it.
"""

import asyncio
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from shared.security.audit_chain import Anchor, ChainHead

ANCHOR_KEY = b"audit-chain"


async def publish_anchor(producer: AIOKafkaProducer, topic: str, head: ChainHead) -> Anchor:
    """Publish ``head`` and return once Kafka acknowledged it."""
    anchor = Anchor(head.position, head.row_hash, datetime.now(UTC))
    value = {
        "position": anchor.position,
        "row_hash": anchor.row_hash,
        "sealed_at": anchor.sealed_at.isoformat(),
    }
    await producer.send_and_wait(topic, orjson.dumps(value), key=ANCHOR_KEY)
    return anchor


def _anchor_of(value: bytes | None) -> Anchor | None:
    try:
        body = orjson.loads(value or b"")
        return Anchor(int(body["position"]), str(body["row_hash"]), datetime.fromisoformat(body["sealed_at"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


async def read_latest_anchor(bootstrap: str, topic: str, timeout_s: float = 10.0) -> Anchor | None:
    """The anchor with the highest position among the last message of each partition; None if none."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            await consumer.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
        if not partitions:
            return None
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        filled = [tp for tp in partitions if ends[tp] > 0]
        for tp in filled:
            consumer.seek(tp, ends[tp] - 1)
        newest: Anchor | None = None
        waiting = set(filled)
        async with asyncio.timeout(timeout_s):
            while waiting:
                for tp, records in (await consumer.getmany(*waiting, timeout_ms=500)).items():
                    waiting.discard(tp)
                    for record in records:
                        anchor = _anchor_of(record.value)
                        if anchor is not None and (newest is None or anchor.position > newest.position):
                            newest = anchor
        return newest
    finally:
        await consumer.stop()
