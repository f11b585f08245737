"""Dead letters: a message that cannot be processed goes to ``<topic>.dlq`` with its error."""

from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaProducer

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
