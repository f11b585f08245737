"""Bounded retries, then a dead letter: how every consumer handles a message it cannot process.

Malformed input (``ValueError``/``LookupError``, non-retryable provider errors) is dead-lettered at
once; anything else (database, broker, provider outages) is retried with exponential backoff first.
If even the dead-letter publish fails, the error propagates and the offset is not committed.
"""

import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream.kafka.annotations import KafkaMessage
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from shared.domain.errors import ProviderError
from shared.messaging.dead_letters import send_to_dead_letters
from shared.observability.metrics import MESSAGES_PROCESSED, PROCESSING_SECONDS
from shared.settings import Settings


def consumer_record(message: KafkaMessage) -> ConsumerRecord[bytes, bytes]:
    """The aiokafka record behind a (non-batch) FastStream message."""
    record = message.raw_message
    assert not isinstance(record, tuple), "batch subscribers handle tuples of records"
    return record


def is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, ProviderError):
        return not exc.retryable
    return isinstance(exc, ValueError | LookupError)


async def process_or_dead_letter(
    record: ConsumerRecord[bytes, bytes],
    work: Callable[[], Awaitable[None]],
    *,
    producer: AIOKafkaProducer,
    settings: Settings,
) -> None:
    attempts = 0
    started = time.perf_counter()
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(lambda e: not is_permanent(e)),
            stop=stop_after_attempt(settings.max_processing_attempts),
            wait=wait_exponential(multiplier=settings.retry_initial_delay_s, max=10),
            reraise=False,
        ):
            with attempt:
                attempts = attempt.retry_state.attempt_number
                await work()
        outcome = "ok"
    except RetryError as exhausted:
        await _dead_letter(record, exhausted.last_attempt.exception(), attempts, producer)
        outcome = "dead_lettered"
    except Exception as exc:
        if not is_permanent(exc):
            raise
        await _dead_letter(record, exc, attempts, producer)
        outcome = "dead_lettered"
    MESSAGES_PROCESSED.labels(record.topic, outcome).inc()
    PROCESSING_SECONDS.labels(record.topic).observe(time.perf_counter() - started)


async def _dead_letter(
    record: ConsumerRecord[bytes, bytes],
    exc: BaseException | None,
    attempts: int,
    producer: AIOKafkaProducer,
) -> None:
    await send_to_dead_letters(
        producer,
        topic=record.topic,
        key=record.key,
        value=record.value or b"",
        headers=list(record.headers),
        error=f"{type(exc).__name__}: {exc}",
        attempts=attempts,
    )
