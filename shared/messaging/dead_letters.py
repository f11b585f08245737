"""Dead letters: a message that cannot be processed goes to ``<topic>.dlq`` with its error.

Operators list them and, once the cause is fixed (say a missing catalog mapping), replay them
to their original topic; consumers are idempotent, so a replay never doubles an effect.
"""

from collections.abc import Sequence
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
    consumer = AIOKafkaConsumer(
        Topics.dead_letters_of(topic),
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        letters: list[DeadLetter] = []
        while len(letters) < limit and not await _reached(consumer, ends):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                letters.extend(_dead_letter(r) for r in records)
        return sorted(letters, key=lambda d: (d.partition, d.offset))[:limit]
    finally:
        await consumer.stop()


async def replay_dead_letters(bootstrap: str, topic: str, group: str) -> int:
    """Re-publish the dead letters of ``topic`` not replayed before; ``group`` stores the progress.

    Partitions are assigned explicitly (no rebalancing) and read up to the end offsets seen at the
    start, so a replay always terminates; each batch's offsets are committed after its acks.
    """
    dlq = Topics.dead_letters_of(topic)
    partitions = [TopicPartition(dlq, p) for p in await _partition_numbers(bootstrap, dlq)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        while not await _reached(consumer, ends):
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    headers = [h for h in record.headers if h[0] not in REPLAY_HEADERS_DROPPED]
                    await producer.send_and_wait(topic, value=record.value, key=record.key, headers=headers)
                    await consumer.commit({tp: record.offset + 1})
                    replayed += 1
    finally:
        await producer.stop()
        await consumer.stop()
    log.info("dead_letters_replayed", topic=topic, count=replayed)
    return replayed


async def _partition_numbers(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
        return [p["partition"] for p in description["partitions"]]
    finally:
        await admin.close()


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


def _dead_letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    return DeadLetter(record.partition, record.offset, record.key, record.value or b"", list(record.headers))
