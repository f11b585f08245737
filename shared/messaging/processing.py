"""How every consumer handles a message it cannot process: retry what will pass, dead-letter the rest.

Failures are classified by ``shared.messaging.failures``:

- permanent (bad payload, unknown catalog mapping, a provider refusal): dead-lettered at once;
- transient (Postgres, Kafka, Redis or a provider down or busy): retried with capped exponential
  backoff for as long as the consumer lives. The handler does not return, so the partition waits
  and its offset is not committed: an outage delays messages but never dead-letters them. Each
  retry is logged (``processing_retry``) and counted (``billing_message_retries_total``). An
  outage longer than ``max.poll.interval.ms`` (5 min) costs a rebalance: the message is then
  redelivered, which the idempotent handlers absorb;
- unknown (most likely a bug): retried ``max_processing_attempts`` times, then dead-lettered, so one
  message cannot stall its partition forever and the operator sees it with its error.

If even the dead-letter publish fails, the error propagates and the offset is not committed.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream.kafka.annotations import KafkaMessage
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential
from tenacity.stop import stop_base

from shared.core_settings import CoreSettings
from shared.messaging.dead_letters import send_to_dead_letters
from shared.messaging.failures import Failure, classify_failure
from shared.observability.metrics import MESSAGE_RETRIES, MESSAGES_PROCESSED, PROCESSING_SECONDS

log = structlog.get_logger(__name__)


def consumer_records(message: KafkaMessage) -> tuple[ConsumerRecord[bytes, bytes], ...]:
    """The aiokafka records behind a batch FastStream message (one record for a single message)."""
    raw = message.raw_message
    return raw if isinstance(raw, tuple) else (raw,)


async def each_in_key_order(
    records: Sequence[ConsumerRecord[bytes, bytes]],
    handle: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]],
    *,
    concurrency: int,
) -> None:
    """``handle`` every record: one key's records one after another in offset order, different keys
    at the same time (at most ``concurrency``). Returns once all are handled, so the batch's offsets
    are committed only then; a handler that raises cancels the rest and the batch is redelivered."""
    by_key: dict[bytes | None, list[ConsumerRecord[bytes, bytes]]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    slots = asyncio.Semaphore(concurrency)

    async def in_order(group: list[ConsumerRecord[bytes, bytes]]) -> None:
        async with slots:
            for record in group:
                await handle(record)

    async with asyncio.TaskGroup() as tasks:
        for group in by_key.values():
            tasks.create_task(in_order(group))


class _StopAfterUnknownFailures(stop_base):
    """Never stops on a transient failure; stops after ``limit`` failures of an unknown kind."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._unknown = 0

    def __call__(self, retry_state: RetryCallState) -> bool:
        assert retry_state.outcome is not None
        exc = retry_state.outcome.exception()
        if exc is None or classify_failure(exc) is Failure.TRANSIENT:
            return False
        self._unknown += 1
        return self._unknown >= self._limit


def _log_retry(topic: str) -> Callable[[RetryCallState], None]:
    def before_sleep(retry_state: RetryCallState) -> None:
        assert retry_state.outcome is not None and retry_state.next_action is not None
        exc = retry_state.outcome.exception()
        assert exc is not None
        kind = classify_failure(exc)
        MESSAGE_RETRIES.labels(topic, kind.value).inc()
        log.warning(
            "processing_retry",
            topic=topic,
            failure=kind.value,
            attempt=retry_state.attempt_number,
            retry_in_s=round(retry_state.next_action.sleep, 3),
            error=f"{type(exc).__name__}: {exc}"[:300],
        )

    return before_sleep


def retrying(topic: str, settings: CoreSettings, *, unknown_attempts: int) -> AsyncRetrying:
    """Transient failures retried forever, unknown ones ``unknown_attempts`` times; then re-raised."""
    return AsyncRetrying(
        retry=retry_if_exception(lambda e: classify_failure(e) is not Failure.PERMANENT),
        stop=_StopAfterUnknownFailures(unknown_attempts),
        wait=wait_exponential(multiplier=settings.retry_initial_delay_s, max=settings.retry_max_delay_s),
        before_sleep=_log_retry(topic),
        reraise=True,
    )


async def retry_transient_failures(
    work: Callable[[], Awaitable[None]], *, topic: str, settings: CoreSettings
) -> None:
    """Run ``work`` until it succeeds; any failure that is not transient is raised at once."""
    async for attempt in retrying(topic, settings, unknown_attempts=1):
        with attempt:
            await work()


async def process_or_dead_letter(
    records: Sequence[ConsumerRecord[bytes, bytes]],
    work: Callable[[], Awaitable[None]],
    *,
    producer: AIOKafkaProducer,
    settings: CoreSettings,
) -> None:
    """Run ``work`` for ``records`` (one message, or a batch that stands or falls together)."""
    topic = records[0].topic
    attempts = 0
    started = time.perf_counter()
    try:
        async for attempt in retrying(topic, settings, unknown_attempts=settings.max_processing_attempts):
            with attempt:
                attempts = attempt.retry_state.attempt_number
                await work()
        outcome = "ok"
    except Exception as exc:  # permanent, or unknown after its bounded attempts
        for record in records:
            await dead_letter(record, exc, attempts, producer)
        outcome = "dead_lettered"
    MESSAGES_PROCESSED.labels(topic, outcome).inc(len(records))
    PROCESSING_SECONDS.labels(topic).observe(time.perf_counter() - started)


async def dead_letter(
    record: ConsumerRecord[bytes, bytes],
    exc: BaseException,
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


async def all_at_once_or_each(
    records: Sequence[ConsumerRecord[bytes, bytes]],
    work: Callable[[Sequence[ConsumerRecord[bytes, bytes]]], Awaitable[None]],
    *,
    producer: AIOKafkaProducer,
    settings: CoreSettings,
) -> None:
    """``work`` on all ``records`` at once, transient failures retried until they pass; if it fails in
    any other way, on each record alone (``process_or_dead_letter``), so a poison record is
    dead-lettered by itself and the others are processed."""
    if not records:
        return
    topic = records[0].topic
    try:
        await retry_transient_failures(lambda: work(records), topic=topic, settings=settings)
        MESSAGES_PROCESSED.labels(topic, "ok").inc(len(records))
        return
    except Exception as exc:
        log.warning("batch_split", topic=topic, size=len(records), error=f"{type(exc).__name__}: {exc}"[:300])
    for record in records:

        async def alone(record: ConsumerRecord[bytes, bytes] = record) -> None:
            await work([record])

        await process_or_dead_letter([record], alone, producer=producer, settings=settings)
