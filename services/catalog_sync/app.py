"""catalog_sync: consumes catalog changes (and, later, a periodic tick) to reconcile providers."""

import structlog
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.logging import configure_logging
from shared.messaging.processing import consumer_record
from shared.messaging.topics import Topics, ensure_topics
from shared.settings import Settings

log = structlog.get_logger(__name__)


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    topics = Topics(settings.namespace)
    broker = KafkaBroker(settings.kafka_bootstrap)

    @broker.subscriber(
        topics.catalog_changes,
        group_id=topics.group("catalog-sync"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_catalog_change(msg: KafkaMessage) -> None:
        log.info("catalog_change_received", key=consumer_record(msg).key)

    app = FastStream(broker)

    @app.on_startup
    async def create_topics() -> None:
        await ensure_topics(settings)

    return app
