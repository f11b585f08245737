"""Dead letters: a message that cannot be processed goes to ``<topic>.dlq`` with its error.

Operators list them and, once the cause is fixed (say a missing catalog mapping), replay them
to their original topic; consumers are idempotent, so a replay never doubles an effect.
"""

import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord, TopicPartition

from shared.messaging.topics import Topics

log = structlog.get_logger(__name__)


async def send_to_dead_letters(
    producer: AIOKafkaProducer,
    *,
    topic: str,
    key: bytes | None,
    value: bytes,
    headers: Sequence[tuple[str, bytes]],
    error: str,
    attempts: int,
) -> None:
    """Publish the original bytes and headers plus ``x-error``/``x-attempts``; awaits the ack."""
    dlq_headers = [h for h in headers if h[0] not in ("x-error", "x-attempts", "x-original-topic")]
    dlq_headers += [
        ("x-error", error[:2000].encode()),
        ("x-attempts", str(attempts).encode()),
        ("x-original-topic", topic.encode()),
    ]
    await producer.send_and_wait(Topics.dead_letters_of(topic), value=value, key=key, headers=dlq_headers)
    log.warning("dead_lettered", topic=topic, error=error[:300], attempts=attempts)


REPLAY_HEADERS_DROPPED = ("x-error", "x-attempts", "x-original-topic")


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def error(self) -> str:
        return dict(self.headers).get("x-error", b"").decode(errors="replace")


async def read_dead_letters(bootstrap: str, topic: str, limit: int) -> list[DeadLetter]:
    """Every dead letter of ``topic`` (oldest first, at most ``limit``), without consuming them."""
    dlq = Topics.dead_letters_of(topic)
    partitions = [TopicPartition(dlq, p) for p in await _partition_numbers(bootstrap, dlq)]
    consumer = _letters_consumer(bootstrap, group=None)
    await consumer.start()
    try:
        consumer.assign(partitions)
        letters: list[DeadLetter] = []
        async with contextlib.aclosing(_records_up_to_the_end(consumer, partitions)) as records:
            async for record in records:
                letters.append(_dead_letter(record))
                if len(letters) >= limit:
                    break
        return sorted(letters, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def replay_dead_letters(
    bootstrap: str, topic: str, group: str, on_replayed: Callable[[], None] = lambda: None
) -> int:
    """Re-publish the dead letters of ``topic`` not replayed before; ``group`` stores the progress.

    Partitions are assigned explicitly (no rebalancing) and read from the group's committed offset
    (or the beginning) up to the end offsets measured once those positions are known, so a replay
    always terminates, counts every letter that was there when it started, and skips the letters
    its own replays produce. Each letter's offset is committed after its ack, then ``on_replayed``
    is called (a progress bar).
    """
    dlq = Topics.dead_letters_of(topic)
    partitions = [TopicPartition(dlq, p) for p in await _partition_numbers(bootstrap, dlq)]
    consumer = _letters_consumer(bootstrap, group=group)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        consumer.assign(partitions)
        async for record in _records_up_to_the_end(consumer, partitions):
            headers = [h for h in record.headers if h[0] not in REPLAY_HEADERS_DROPPED]
            await producer.send_and_wait(topic, value=record.value, key=record.key, headers=headers)
            await consumer.commit({TopicPartition(record.topic, record.partition): record.offset + 1})
            replayed += 1
            on_replayed()
    finally:
        await producer.stop()
        await consumer.stop()
    log.info("dead_letters_replayed", topic=topic, count=replayed)
    return replayed


def _letters_consumer(bootstrap: str, *, group: str | None) -> AIOKafkaConsumer:
    # "earliest", never the default "latest": a partition with no committed offset must start at
    # its first letter. With "latest" the consumer's own reset could overtake a seek to the
    # beginning, so a replay started at the end and reported 0 while letters were waiting.
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )


async def _records_up_to_the_end(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> AsyncGenerator[ConsumerRecord[bytes, bytes]]:
    """The records of the assigned ``partitions`` from their positions up to the current ends."""
    positions = {tp: await consumer.position(tp) for tp in partitions}  # waits for a valid position
    ends = await consumer.end_offsets(partitions)
    remaining = {tp for tp in partitions if positions[tp] < ends[tp]}
    consumer.pause(*(tp for tp in partitions if tp not in remaining))
    while remaining:
        for tp, records in (await consumer.getmany(*remaining, timeout_ms=500)).items():
            for record in records:
                if record.offset >= ends[tp]:
                    break
                yield record
            if await consumer.position(tp) >= ends[tp]:
                remaining.discard(tp)
                consumer.pause(tp)


async def _partition_numbers(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
        return [p["partition"] for p in description["partitions"]]
    finally:
        await admin.close()


def _dead_letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    return DeadLetter(record.partition, record.offset, record.key, record.value or b"", list(record.headers))
