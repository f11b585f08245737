"""telemetry: rolls the telemetry topic and the entitlement CloudEvents up into Postgres.

Funnel steps before payment (views, checkouts started, webhooks) come from ``billing.telemetry``;
the paid steps and entitlements from ``billing.entitlements``, which the outbox never loses, so the
revenue figures do not depend on best-effort telemetry. Every event counts once (handlers.py).
"""

from collections.abc import Awaitable, Callable, Sequence

from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy.ext.asyncio import AsyncSession

from services.telemetry.handlers import entitlement_event_of, roll_up_entitlements, roll_up_telemetry
from shared.bootstrap import bootstrap
from shared.db.unit_of_work import unit_of_work
from shared.logging import broker_logger, configure_logging
from shared.messaging.processing import all_at_once_or_each, consumer_records
from shared.messaging.telemetry import telemetry_event_of
from shared.messaging.topics import ensure_topics
from shared.security.pseudonyms import Pseudonymizer
from shared.settings import Settings

MAX_BATCH = 200
# Analytics can wait a second: the broker holds each fetch until this much has gathered (or the wait
# ends), so a transaction rolls up tens of events instead of a few, for a fraction of the CPU.
FETCH_MIN_BYTES = 32 * 1024
FETCH_MAX_WAIT_MS = 1000
BatchHandler = Callable[[AsyncSession, Sequence[ConsumerRecord[bytes, bytes]]], Awaitable[int]]


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    runtime = bootstrap(settings, pool_size=2)
    topics = runtime.topics
    broker = KafkaBroker(settings.kafka_bootstrap, logger=broker_logger())
    pseudonyms = Pseudonymizer(runtime.secrets)

    async def telemetry_records(
        session: AsyncSession, records: Sequence[ConsumerRecord[bytes, bytes]]
    ) -> int:
        return await roll_up_telemetry(session, [telemetry_event_of(r.value or b"") for r in records])

    async def entitlement_records(
        session: AsyncSession, records: Sequence[ConsumerRecord[bytes, bytes]]
    ) -> int:
        events = [entitlement_event_of(r.value or b"") for r in records]
        return await roll_up_entitlements(session, pseudonyms, events)

    def subscribe(topic: str, group: str, handle: BatchHandler) -> None:
        async def in_one_transaction(records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
            async with unit_of_work(runtime.sessions) as session:
                await handle(session, records)

        @broker.subscriber(
            topic,
            group_id=topics.group(group),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=MAX_BATCH,
            batch_timeout_ms=100,
            fetch_min_bytes=FETCH_MIN_BYTES,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            title=f"{topic}:{group}",  # one AsyncAPI channel per group
        )
        async def roll_up(msg: KafkaMessage) -> None:
            # The batch in one transaction; a poison record is dead-lettered alone, outages retried.
            records = consumer_records(msg)
            await all_at_once_or_each(
                records, in_one_transaction, producer=runtime.producer, settings=settings
            )

    subscribe(topics.telemetry, "telemetry", telemetry_records)
    # Its own group: one group over two topics would rebalance both whenever either changes.
    subscribe(topics.entitlements, "telemetry-entitlements", entitlement_records)

    app = FastStream(broker)

    @app.on_startup
    async def start() -> None:
        await ensure_topics(settings)
        await runtime.start()

    @app.after_shutdown
    async def stop() -> None:
        await runtime.close()

    return app
