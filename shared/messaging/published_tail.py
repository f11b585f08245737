"""Which outbox rows are already on their topic: the relay's check after a round it cannot vouch for.

A round publishes, then marks its rows in the same transaction as its lock. When that commit fails
(PostgreSQL stopped, the process died) the sends may be on the topic while the rows still look
unpublished. Such a round publishes at most ``batch_size`` rows, so reading back that many messages
from the end of each partition finds every one of them by its ``ce_id`` header. A single send that
failed is looked for from its row's creation time instead (``ids_on_topics_since``).
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

CE_ID_HEADER = "ce_id"
POLL_TIMEOUT_MS = 500
# A broker that stops answering mid-read fails the check (and with it the round, which is retried)
# instead of holding the relay.
READ_DEADLINE_S = 30.0

Offsets = dict[TopicPartition, int]
# where to start reading each partition, given its end offsets
FirstOffsets = Callable[[AIOKafkaConsumer, list[TopicPartition], Offsets], Awaitable[Offsets]]


async def ids_on_topic_tails(bootstrap: str, partitions: Iterable[TopicPartition], tail: int) -> set[str]:
    """``ce_id`` of the last ``tail`` messages of each of ``partitions``."""

    async def last_ones(_: AIOKafkaConsumer, wanted: list[TopicPartition], ends: Offsets) -> Offsets:
        return {tp: ends[tp] - tail for tp in wanted}

    return await _ids_from(bootstrap, partitions, last_ones)


async def ids_on_topics_since(
    bootstrap: str, partitions: Iterable[TopicPartition], since_ms: int
) -> set[str]:
    """``ce_id`` of every message of ``partitions`` stamped at ``since_ms`` or later.

    For a send that failed: its ack may have been lost after the broker wrote it, and any number of
    messages may have followed it since, so the tail alone cannot tell; its time can.
    """

    async def since(consumer: AIOKafkaConsumer, wanted: list[TopicPartition], ends: Offsets) -> Offsets:
        found = await consumer.offsets_for_times(dict.fromkeys(wanted, since_ms))
        return {tp: found[tp].offset if found.get(tp) is not None else ends[tp] for tp in wanted}

    return await _ids_from(bootstrap, partitions, since)


async def _ids_from(
    bootstrap: str, partitions: Iterable[TopicPartition], first_offsets: FirstOffsets
) -> set[str]:
    wanted = sorted(set(partitions))
    if not wanted:
        return set()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        async with asyncio.timeout(READ_DEADLINE_S):
            consumer.assign(wanted)
            ends = await consumer.end_offsets(wanted)
            starts = await consumer.beginning_offsets(wanted)
            firsts = {
                tp: max(starts[tp], offset)
                for tp, offset in (await first_offsets(consumer, wanted, ends)).items()
            }
            return await _read_to_end(consumer, firsts, ends)
    finally:
        await consumer.stop()


async def _read_to_end(consumer: AIOKafkaConsumer, firsts: Offsets, ends: Offsets) -> set[str]:
    remaining = {tp for tp, first in firsts.items() if ends[tp] > first}
    for tp in remaining:
        consumer.seek(tp, firsts[tp])
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
