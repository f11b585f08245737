"""Which outbox rows are already on their topic: the relay's check after a round it cannot vouch for.

A round publishes, then marks its rows in the same transaction as its lock. When that commit fails
(PostgreSQL stopped, the process died) the sends may be on the topic while the rows still look
unpublished. Such a round publishes at most ``batch_size`` rows, so reading back that many messages
from the end of each partition finds every one of them by its ``ce_id`` header.
"""

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

CE_ID_HEADER = "ce_id"
POLL_TIMEOUT_MS = 500
# A broker that stops answering mid-read fails the check (and with it the round, which is retried)
# instead of holding the relay.
READ_DEADLINE_S = 30.0


async def ids_on_topic_tails(bootstrap: str, partitions: Iterable[TopicPartition], tail: int) -> set[str]:
    """``ce_id`` of the last ``tail`` messages of each of ``partitions``."""
    wanted = sorted(set(partitions))
    if not wanted:
        return set()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        async with asyncio.timeout(READ_DEADLINE_S):
            return await _read_tails(consumer, wanted, tail)
    finally:
        await consumer.stop()


async def _read_tails(consumer: AIOKafkaConsumer, partitions: list[TopicPartition], tail: int) -> set[str]:
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    starts = await consumer.beginning_offsets(partitions)
    remaining = {tp for tp in partitions if ends[tp] > starts[tp]}
    for tp in remaining:
        consumer.seek(tp, max(starts[tp], ends[tp] - tail))
    found: set[str] = set()
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=POLL_TIMEOUT_MS)
        for messages in batches.values():
            found.update(_ce_id(message.headers) for message in messages)
        remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    found.discard("")
    return found


def _ce_id(headers: Iterable[tuple[str, bytes]]) -> str:
    return next((value.decode() for key, value in headers if key == CE_ID_HEADER), "")
