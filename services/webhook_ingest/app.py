"""webhook_ingest: consumes raw deliveries, confirms them with the provider, publishes entitlement updates."""

import httpx
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.webhook_ingest.context import IngestContext
from services.webhook_ingest.normalize_webhooks import publish_updates, updates_from_delivery
from shared.connectors.lightning.adapter import LightningAdapter, configured_backends
from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.db.engine import create_engine, session_factory
from shared.logging import configure_logging
from shared.messaging.processing import consumer_record, process_or_dead_letter
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics, ensure_topics
from shared.settings import Settings


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    topics = Topics(settings.namespace)
    broker = KafkaBroker(settings.kafka_bootstrap)
    producer = create_producer(settings)
    engine = create_engine(settings.database_url, pool_size=5)
    sessions = session_factory(engine)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
    ctx = IngestContext(
        settings,
        sessions,
        revenuecat=RevenueCatAdapter(settings, http, sessions),
        lightning=LightningAdapter(settings, sessions, configured_backends(settings, http)),
    )

    @broker.subscriber(
        topics.webhooks_raw,
        group_id=topics.group("webhook-ingest"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def normalize_raw_webhook(msg: KafkaMessage) -> None:
        record = consumer_record(msg)

        async def work() -> None:
            updates = await updates_from_delivery(record, ctx)
            await publish_updates(producer, topics.entitlement_updates, updates)

        # Outages (Postgres, Kafka, a retryable ProviderError) are retried until they pass; bad input
        # is dead-lettered (shared/messaging/processing.py).
        await process_or_dead_letter([record], work, producer=producer, settings=settings)

    app = FastStream(broker)

    @app.on_startup
    async def start_producer() -> None:
        await ensure_topics(settings)
        await producer.start()

    @app.after_shutdown
    async def stop_producer() -> None:
        await producer.stop()
        await http.aclose()
        await engine.dispose()

    return app
