"""webhook_ingest: consumes raw deliveries, confirms them with the provider, publishes entitlement updates.

Each provider has its own consumer group on the raw topic and handles only its own deliveries, so one
provider's outage (its deliveries retried until it is back, holding their partition) never holds back
another provider's: a RevenueCat outage does not delay a Lightning settlement.
"""

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.webhook_ingest.context import IngestContext
from services.webhook_ingest.normalize_webhooks import updates_from_delivery
from shared.bootstrap import bootstrap
from shared.domain.provider import Provider
from shared.logging import configure_logging
from shared.messaging.processing import consumer_record, process_or_dead_letter
from shared.messaging.raw_deliveries import provider_named_by
from shared.messaging.topics import ensure_topics
from shared.settings import Settings


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    runtime = bootstrap(settings, pool_size=5)
    topics, producer = runtime.topics, runtime.producer
    broker = KafkaBroker(settings.kafka_bootstrap)
    ctx = IngestContext(runtime)

    def subscribe(provider: Provider, *, takes_unreadable: bool) -> None:
        @broker.subscriber(
            topics.webhooks_raw,
            group_id=topics.group(f"webhook-ingest-{provider.value}"),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )
        async def normalize_raw_webhook(msg: KafkaMessage) -> None:
            record = consumer_record(msg)
            named = provider_named_by(record)
            unclaimed = named is None or named not in runtime.providers
            # One group dead-letters a delivery no configured provider claims; the others let it pass.
            if named is not provider and not (unclaimed and takes_unreadable):
                return

            async def work() -> None:
                updates = await updates_from_delivery(record, ctx)
                await runtime.updates.publish(updates)

            # Outages (Postgres, Kafka, a retryable ProviderError) are retried until they pass; bad
            # input is dead-lettered (shared/messaging/processing.py).
            await process_or_dead_letter([record], work, producer=producer, settings=settings)

    for position, provider in enumerate(runtime.providers):
        subscribe(provider, takes_unreadable=position == 0)

    app = FastStream(broker)

    @app.on_startup
    async def start_producer() -> None:
        await ensure_topics(settings)
        await runtime.start()

    @app.after_shutdown
    async def stop_producer() -> None:
        await runtime.close()

    return app
