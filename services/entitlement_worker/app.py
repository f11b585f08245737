"""entitlement_worker: applies updates to Postgres and relays the outbox to the entitlements topic."""

import asyncio

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.entitlement_worker.batches import apply_record_batch
from services.entitlement_worker.expiry_sweeper import ExpirySweeper
from shared.connectors.registry import provider_dedupe_rows, raw_payload_columns
from shared.db.engine import create_engine, session_factory
from shared.domain.provider import Provider
from shared.entitlement_cache import FeatureCache
from shared.logging import broker_logger, configure_logging
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.processing import consumer_records
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics, ensure_topics
from shared.observability.tracing import configure_tracing
from shared.redis_client import create_redis
from shared.security.audit_sealer import AuditSealer
from shared.security.retention import RetentionSchedule
from shared.settings import Settings

# Updates per transaction: large enough to amortise the round trips and the commit, small enough
# that a failed batch retried message by message stays cheap.
MAX_BATCH = 100


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    configure_tracing("entitlement-worker")
    topics = Topics(settings.namespace)
    broker = KafkaBroker(settings.kafka_bootstrap, logger=broker_logger())
    producer = create_producer(settings)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    redis = create_redis(settings)
    # Feature caches are invalidated before an entitlement event becomes visible.
    relay = OutboxRelay(
        sessions,
        producer,
        FeatureCache(redis, settings.namespace),
        kafka_bootstrap=settings.kafka_bootstrap,
        batch_size=settings.outbox_batch_size,
        idle_interval_s=settings.outbox_poll_interval_s,
        topic_wait_s=settings.outbox_topic_wait_s,
    )
    relay_task: list[asyncio.Task[None]] = []

    @broker.subscriber(
        topics.entitlement_updates,
        group_id=topics.group("entitlement-worker"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=MAX_BATCH,
        batch_timeout_ms=100,
    )
    async def apply_entitlement_updates(msg: KafkaMessage) -> None:
        # Many updates per transaction (see batches.py); offsets are committed once it returns.
        await apply_record_batch(
            consumer_records(msg),
            sessions=sessions,
            entitlements_topic=topics.entitlements,
            producer=producer,
            settings=settings,
            announced=relay.wake,
        )

    app = FastStream(broker)

    @app.on_startup
    async def start() -> None:
        await ensure_topics(settings)
        await producer.start()

    sweeper = ExpirySweeper(
        sessions,
        producer,
        topics.entitlement_updates,
        interval_s=settings.expiry_sweep_interval_s,
        grace_s={
            Provider.LIGHTNING: settings.expiry_sweep_grace_s,
            Provider.REVENUECAT: settings.revenuecat.expiry_sweep_grace_s,
        },
    )

    @app.after_startup
    async def start_relay() -> None:
        relay_task.append(asyncio.create_task(relay.run_forever()))
        relay_task.append(asyncio.create_task(sweeper.run_forever()))
        relay_task.append(
            asyncio.create_task(
                RetentionSchedule(
                    sessions, settings, raw_payload_columns(), provider_dedupe_rows()
                ).run_forever()
            )
        )
        sealer = AuditSealer(
            sessions,
            producer,
            topics.audit_anchors,
            interval_s=settings.audit_seal_interval_s,
            republish_s=settings.audit_anchor_republish_s,
        )
        relay_task.append(asyncio.create_task(sealer.run_forever()))

    @app.after_shutdown
    async def stop() -> None:
        for task in relay_task:
            task.cancel()
        await asyncio.gather(*relay_task, return_exceptions=True)
        await producer.stop()
        await redis.aclose()
        await engine.dispose()

    return app
