"""webhook_ingest: consumes raw deliveries, normalizes them, publishes entitlement updates."""

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.webhook_ingest.normalize_webhooks import publish_updates, updates_from_delivery
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

    @broker.subscriber(
        topics.webhooks_raw,
        group_id=topics.group("webhook-ingest"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def normalize_raw_webhook(msg: KafkaMessage) -> None:
        record = consumer_record(msg)

        async def work() -> None:
            updates = updates_from_delivery(record)
            await publish_updates(producer, topics.entitlement_updates, updates)

        await process_or_dead_letter(record, work, producer=producer, settings=settings)

    app = FastStream(broker)

    @app.on_startup
    async def start_producer() -> None:
        await ensure_topics(settings)
        await producer.start()

    @app.after_shutdown
    async def stop_producer() -> None:
        await producer.stop()

    return app
