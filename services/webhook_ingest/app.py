"""webhook_ingest: consumes raw deliveries, confirms them with the provider, publishes entitlement updates.

Each provider has its own consumer group on the raw topic and handles only its own deliveries, so one
provider's outage (its deliveries retried until it is back, holding their partition) never holds back
another provider's: a RevenueCat outage does not delay a Lightning settlement. Within a group,
deliveries are confirmed concurrently (one key's in order), since each waits on a provider read.
"""

from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.webhook_ingest.context import IngestContext
from services.webhook_ingest.normalize_webhooks import updates_from_delivery
from shared.bootstrap import bootstrap
from shared.domain.provider import Provider
from shared.logging import configure_logging
from shared.messaging.processing import consumer_records, each_in_key_order, process_or_dead_letter
from shared.messaging.raw_deliveries import provider_named_by, raw_delivery_of
from shared.messaging.telemetry import TelemetryType
from shared.messaging.topics import ensure_topics
from shared.settings import Settings

# Deliveries taken per poll, and confirmed at once: the provider re-reads overlap instead of queueing,
# within the database pool (bootstrap's pool_size 5 + overflow 10) and the providers' patience.
MAX_BATCH = 50
BATCH_TIMEOUT_MS = 20
CONCURRENT_CONFIRMATIONS = 8


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    runtime = bootstrap(settings, pool_size=5)
    topics, producer = runtime.topics, runtime.producer
    broker = KafkaBroker(settings.kafka_bootstrap)
    ctx = IngestContext(runtime)

    def subscribe(provider: Provider, *, takes_unreadable: bool) -> None:
        def claims(record: ConsumerRecord[bytes, bytes]) -> bool:
            named = provider_named_by(record)
            unclaimed = named is None or named not in runtime.providers
            # One group dead-letters a delivery no configured provider claims; the others let it pass.
            return named is provider or (unclaimed and takes_unreadable)

        async def confirm(record: ConsumerRecord[bytes, bytes]) -> None:
            async def work() -> None:
                updates = await updates_from_delivery(record, ctx)
                await runtime.updates.publish(updates)
                _confirmed(record, [update.update_id for update in updates])

            # Outages (Postgres, Kafka, a retryable ProviderError) are retried until they pass; bad
            # input is dead-lettered (shared/messaging/processing.py).
            await process_or_dead_letter([record], work, producer=producer, settings=settings)

        @broker.subscriber(
            topics.webhooks_raw,
            group_id=topics.group(f"webhook-ingest-{provider.value}"),
            title=f"{topics.webhooks_raw}:webhook-ingest-{provider.value}",  # one AsyncAPI channel per group
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=MAX_BATCH,
            batch_timeout_ms=BATCH_TIMEOUT_MS,
        )
        async def normalize_raw_webhooks(msg: KafkaMessage) -> None:
            # Each delivery is confirmed with its provider (a network round trip): different
            # deliveries at once, each key's in order. Offsets are committed once the batch is done.
            mine = [record for record in consumer_records(msg) if claims(record)]
            await each_in_key_order(mine, confirm, concurrency=CONCURRENT_CONFIRMATIONS)

    def _confirmed(record: ConsumerRecord[bytes, bytes], update_ids: list[str]) -> None:
        """Telemetry: when the delivery arrived, keyed by its updates (webhook → entitlement latency)."""
        delivery = raw_delivery_of(record)
        if update_ids and delivery.received_at_ms is not None:
            runtime.telemetry.emit(
                TelemetryType.WEBHOOK_CONFIRMED,
                {"provider": delivery.provider.value, "receivedAtMs": delivery.received_at_ms},
                pseudonymous_keys=update_ids,
            )

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
