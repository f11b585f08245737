"""Handler: a batch of entitlement updates in one transaction, else one message at a time.

One transaction per batch, one statement per table and one commit for many updates (shared/db/
entitlements.py). Order is kept (a user's updates share a partition) and duplicates are claimed once. A
transient failure (Postgres down, a lock timeout) retries the whole batch until it passes; any other
failure rolls the batch back and each message is handled alone, so a poison message is dead-lettered
by itself and the rest are applied (shared/messaging/processing.py). Offsets are committed afterwards.
"""

from collections.abc import Callable, Sequence

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.entitlement_worker.apply_updates import apply_update_batch, apply_update_message
from shared.messaging.processing import process_or_dead_letter, retry_transient_failures
from shared.observability.metrics import MESSAGES_PROCESSED
from shared.observability.request_ids import bound_request_id
from shared.observability.tracing import consuming, consuming_batch
from shared.settings import Settings

log = structlog.get_logger(__name__)


async def apply_record_batch(
    records: Sequence[ConsumerRecord[bytes, bytes]],
    *,
    sessions: async_sessionmaker[AsyncSession],
    entitlements_topic: str,
    producer: AIOKafkaProducer,
    settings: Settings,
    announced: Callable[[], None],
) -> None:
    """Apply ``records`` in one transaction, or each alone (with retries and dead letters) if that fails."""
    if not records:
        return

    async def apply_all() -> None:
        if await apply_update_batch(sessions, [r.value or b"" for r in records], entitlements_topic):
            announced()

    try:
        # The transaction's span and log line join the first update's trace and request id; the span
        # links every other update's trace.
        with (
            bound_request_id(records[0].headers),
            consuming_batch(records[0].topic, [r.headers for r in records]),
        ):
            await retry_transient_failures(apply_all, topic=records[0].topic, settings=settings)
            log.info("entitlement_batch_applied", updates=len(records))
        MESSAGES_PROCESSED.labels(records[0].topic, "ok").inc(len(records))
        return
    except Exception as exc:
        log.warning("entitlement_batch_split", size=len(records), error=f"{type(exc).__name__}: {exc}")
    for record in records:

        async def work(record: ConsumerRecord[bytes, bytes] = record) -> None:
            if await apply_update_message(sessions, record.value or b"", entitlements_topic):
                announced()

        with bound_request_id(record.headers), consuming(record.topic, record.headers):
            await process_or_dead_letter([record], work, producer=producer, settings=settings)
