"""catalog_sync: reconciles every provider's catalog with ours on each catalog change and on a schedule.

Changes (``billing.catalog.changes``, published by ``billing catalog apply`` and the admin API) are
consumed in batches; a batch is committed once a full reconciliation that started after it has
finished, so a change is never skipped. A push a provider refused is in that run's report and is
tried again by the next run: the schedule (``catalog_sync_interval_s``) guarantees there is one.
A change that does not parse is dead-lettered at once; a run that fails is retried like any
processing failure (shared/messaging/processing.py), so nothing is redelivered in a hot loop.
It also compares the ledger with the providers every ``reconcile_interval_s`` (ledger_drift.py), and
refreshes the deployment's backlog gauges every ``backlog_metrics_interval_s``
(shared/backlog_metrics/backlog_gauges.py).
"""

import asyncio
from datetime import timedelta

import structlog
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from services.catalog_sync.changes import CatalogChangeEvent
from services.catalog_sync.ledger_drift import check_ledger_forever
from services.catalog_sync.providers import build_provider_catalogs
from services.catalog_sync.reconcile import reconcile
from services.catalog_sync.runner import SyncRunner
from shared.backlog_metrics.backlog_gauges import BacklogGauges
from shared.backlog_metrics.kafka_backlog import KafkaBacklog
from shared.bootstrap import bootstrap
from shared.connectors.registry import secret_specs
from shared.logging import broker_logger, configure_logging
from shared.messaging.processing import consumer_records, dead_letter, process_or_dead_letter
from shared.messaging.topics import ensure_topics
from shared.settings import Settings

log = structlog.get_logger(__name__)


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    runtime = bootstrap(settings, pool_size=2)
    topics, sessions = runtime.topics, runtime.sessions
    broker = KafkaBroker(settings.kafka_bootstrap, logger=broker_logger())
    catalogs = build_provider_catalogs(runtime.provider_resources)
    producer = runtime.producer  # dead letters

    async def run(trigger: str) -> None:
        await reconcile(sessions, catalogs, trigger=trigger)

    runner = SyncRunner(run)
    schedule: list[asyncio.Task[None]] = []

    @broker.subscriber(
        topics.catalog_changes,
        group_id=topics.group("catalog-sync"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=500,
    )
    async def on_catalog_changes(msg: KafkaMessage) -> None:
        records = consumer_records(msg)
        changes: list[ConsumerRecord[bytes, bytes]] = []
        slugs: set[str] = set()
        for record in records:
            try:
                slugs.add(CatalogChangeEvent.model_validate_json(record.value or b"").subject)
            except ValidationError as exc:
                await dead_letter(record, exc, 1, producer)
                continue
            changes.append(record)
        if not changes:
            return
        log.info("catalog_changes_received", slugs=sorted(slugs))

        async def run_after_changes() -> None:
            await runner.run_after_now("change")

        await process_or_dead_letter(changes, run_after_changes, producer=producer, settings=settings)

    app = FastStream(broker)

    @app.on_startup
    async def create_topics() -> None:
        await ensure_topics(settings)
        await runtime.start()
        log.info("catalog_sync_providers", providers=[provider.value for provider in catalogs])

    @app.after_startup
    async def start_schedule() -> None:
        schedule.append(asyncio.create_task(runner.every(settings.catalog_sync_interval_s)))
        if settings.reconcile_interval_s > 0:
            schedule.append(asyncio.create_task(check_ledger_forever(runtime)))
        # The deployment's backlog gauges (lag, dead letters, outbox, secret age): docs/runbook.md.
        kafka = KafkaBacklog(settings.kafka_bootstrap, topics)
        max_age = timedelta(days=settings.secret_max_age_days)
        gauges = BacklogGauges(kafka, sessions, runtime.secrets, list(secret_specs()), max_age)
        schedule.append(asyncio.create_task(gauges.run_forever(settings.backlog_metrics_interval_s)))

    @app.after_shutdown
    async def stop() -> None:
        for task in schedule:
            task.cancel()
        await asyncio.gather(*schedule, return_exceptions=True)
        await runtime.close()

    return app
