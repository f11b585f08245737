"""catalog_sync: reconciles every provider's catalog with ours on each catalog change and on a schedule.

Changes (``billing.catalog.changes``, published by ``billing catalog apply`` and the admin API) are
consumed in batches; a batch is committed once a full reconciliation that started after it has
finished, so a change is never skipped. A push a provider refused is in that run's report and is
tried again by the next run: the schedule (``catalog_sync_interval_s``) guarantees there is one.
"""

import asyncio
from typing import Any

import httpx
import structlog
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from services.catalog_sync.providers import build_provider_catalogs
from services.catalog_sync.reconcile import reconcile
from services.catalog_sync.runner import SyncRunner
from shared.connectors.base import ProviderResources
from shared.db.engine import create_engine, session_factory
from shared.logging import configure_logging
from shared.messaging.topics import Topics, ensure_topics
from shared.settings import Settings

log = structlog.get_logger(__name__)


def build_app(settings: Settings) -> FastStream:
    configure_logging(settings)
    topics = Topics(settings.namespace)
    broker = KafkaBroker(settings.kafka_bootstrap)
    engine = create_engine(settings.database_url, pool_size=2)
    sessions = session_factory(engine)
    http = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=3.0))
    redis = Redis.from_url(settings.redis_url)
    catalogs = build_provider_catalogs(ProviderResources(settings, http, sessions, redis))

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
    async def on_catalog_changes(changes: list[dict[str, Any]]) -> None:
        log.info("catalog_changes_received", slugs=sorted({str(c.get("subject")) for c in changes}))
        await runner.run_after_now("change")

    app = FastStream(broker)

    @app.on_startup
    async def create_topics() -> None:
        await ensure_topics(settings)
        log.info("catalog_sync_providers", providers=[c.provider.value for c in catalogs])

    @app.after_startup
    async def start_schedule() -> None:
        schedule.append(asyncio.create_task(runner.every(settings.catalog_sync_interval_s)))

    @app.after_shutdown
    async def stop() -> None:
        for task in schedule:
            task.cancel()
        await asyncio.gather(*schedule, return_exceptions=True)
        await http.aclose()
        await redis.aclose()
        await engine.dispose()

    return app
