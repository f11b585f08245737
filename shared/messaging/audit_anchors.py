"""The audit chain's head, anchored outside the database on a Kafka topic.

Someone who can rewrite the database can delete the newest sealed rows and leave an intact, shorter
chain; an anchor published earlier still names the removed position and its hash, and the database
cannot take it back. The sealer publishes the head whenever it advances and again every
``republish_s`` (so the newest anchor outlives the topic's retention). Verification reads only the
newest anchor: every older one names a prefix of the chain it names.
"""

import asyncio
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from shared.domain.audit import Anchor, ChainHead

ANCHOR_KEY = b"audit-chain"
# Every anchor goes to partition 0 whatever the topic's partition count: its last record is the newest.
ANCHOR_PARTITION = 0


async def publish_anchor(producer: AIOKafkaProducer, topic: str, head: ChainHead) -> Anchor:
    """Publish ``head`` and return once Kafka acknowledged it."""
    anchor = Anchor(head.position, head.row_hash, datetime.now(UTC))
    value = {
        "position": anchor.position,
        "row_hash": anchor.row_hash,
        "sealed_at": anchor.sealed_at.isoformat(),
    }
    await producer.send_and_wait(topic, orjson.dumps(value), key=ANCHOR_KEY, partition=ANCHOR_PARTITION)
    return anchor


def _anchor_of(value: bytes | None) -> Anchor | None:
    try:
        body = orjson.loads(value or b"")
        return Anchor(int(body["position"]), str(body["row_hash"]), datetime.fromisoformat(body["sealed_at"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


async def read_latest_anchor(bootstrap: str, topic: str, timeout_s: float = 10.0) -> Anchor | None:
    """The newest anchor (the last record of the anchor partition); None if none was published."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return None
        partition = TopicPartition(topic, ANCHOR_PARTITION)
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        if end == 0:
            return None
        consumer.seek(partition, end - 1)
        async with asyncio.timeout(timeout_s):
            while True:
                records = (await consumer.getmany(partition, timeout_ms=500)).get(partition, [])
                if records:
                    return _anchor_of(records[-1].value)
    finally:
        await consumer.stop()
