"""telemetry: rolls the telemetry topic and the entitlement CloudEvents up into Postgres.

Funnel steps before payment (views, checkouts started, webhooks) come from ``billing.telemetry``;
the paid steps and entitlements from ``billing.entitlements``, which the outbox never loses, so the
revenue figures do not depend on best-effort telemetry. Every event counts once (handlers.py).
"""

from collections.abc import Awaitable, Callable

from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy.ext.asyncio import AsyncSession

from services.telemetry.handlers import entitlement_event_of, roll_up_entitlement, roll_up_telemetry
from shared.bootstrap import bootstrap
from shared.db.unit_of_work import unit_of_work
from shared.logging import configure_logging
from shared.messaging.processing import consumer_records, process_or_dead_letter
from shared.messaging.telemetry import telemetry_event_of
from shared.messaging.topics import ensure_topics
from shared.security.pseudonyms import Pseudonymizer
from shared.settings import Settings

MAX_BATCH = 200
RecordHandler = Callable[[AsyncSession, ConsumerRecord[bytes, bytes]], Awaitable[bool]]


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    runtime = bootstrap(settings, pool_size=2)
    topics = runtime.topics
    broker = KafkaBroker(settings.kafka_bootstrap)
    pseudonyms = Pseudonymizer(runtime.secrets)

    async def each_once(msg: KafkaMessage, handle: RecordHandler) -> None:
        # One transaction per record: a poison record is dead-lettered alone, outages are retried.
        for record in consumer_records(msg):

            async def work(record: ConsumerRecord[bytes, bytes] = record) -> None:
                async with unit_of_work(runtime.sessions) as session:
                    await handle(session, record)

            await process_or_dead_letter([record], work, producer=runtime.producer, settings=settings)

    async def telemetry_record(session: AsyncSession, record: ConsumerRecord[bytes, bytes]) -> bool:
        return await roll_up_telemetry(session, telemetry_event_of(record.value or b""))

    async def entitlement_record(session: AsyncSession, record: ConsumerRecord[bytes, bytes]) -> bool:
        return await roll_up_entitlement(session, pseudonyms, entitlement_event_of(record.value or b""))

    def subscribe(topic: str, group: str, handle: RecordHandler) -> None:
        @broker.subscriber(
            topic,
            group_id=topics.group(group),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=MAX_BATCH,
            batch_timeout_ms=100,
            title=f"{topic}:{group}",  # one AsyncAPI channel per group
        )
        async def roll_up(msg: KafkaMessage) -> None:
            await each_once(msg, handle)

    subscribe(topics.telemetry, "telemetry", telemetry_record)
    # Its own group: one group over two topics would rebalance both whenever either changes.
    subscribe(topics.entitlements, "telemetry-entitlements", entitlement_record)

    app = FastStream(broker)

    @app.on_startup
    async def start() -> None:
        await ensure_topics(settings)
        await runtime.start()

    @app.after_shutdown
    async def stop() -> None:
        await runtime.close()

    return app
