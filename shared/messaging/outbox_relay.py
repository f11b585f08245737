"""Publishes outbox rows to Kafka in commit order, after the transaction that wrote them.

Only one relay runs at a time (a Postgres advisory lock), so events of one user never overtake
each other; a crash between publish and mark re-publishes with the same CloudEvent id.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import orjson
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db.models import Outbox
from shared.domain.cloudevents import CLOUDEVENT_CONTENT_TYPE
from shared.entitlement_cache import FeatureCache
from shared.observability.metrics import OUTBOX_PUBLISHED
from shared.settings import get_settings

log = structlog.get_logger(__name__)
RELAY_LOCK_KEY = 0x6269_6C6C  # "bill": one relay per database


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        *,
        batch_size: int,
        idle_interval_s: float,
        before_publish: Callable[[Sequence[Outbox]], Awaitable[None]] | None = None,
    ) -> None:
        # Feature caches must be invalidated before an entitlement event becomes visible, so
        # every relay does it unless told otherwise (see shared/entitlement_cache.py).
        self._before_publish = (
            before_publish or FeatureCache.from_settings(get_settings()).invalidate_for_outbox
        )
        self._engine = engine
        self._sessions = sessions
        self._producer = producer
        self._batch_size = batch_size
        self._idle_interval_s = idle_interval_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they go out without waiting a poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        """Run the relay, restarting it after a failure (database or broker outage)."""
        while True:
            try:
                await self.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox_relay_failed")
                await asyncio.sleep(1.0)

    async def run(self) -> None:
        async with self._engine.connect() as lock_conn:
            await lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": RELAY_LOCK_KEY})
            await lock_conn.commit()
            log.info("outbox_relay_leader")
            while True:
                published = await self.publish_pending()
                if published < self._batch_size:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle_interval_s)

    async def publish_pending(self) -> int:
        async with self._sessions() as session, session.begin():
            rows = (
                (
                    await session.execute(
                        select(Outbox)
                        .where(Outbox.published_at.is_(None))
                        .order_by(Outbox.seq)
                        .limit(self._batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                return 0
            await self._before_publish(rows)
            deliveries = [
                await self._producer.send(
                    row.topic,
                    value=orjson.dumps(row.payload),
                    key=row.key.encode(),
                    headers=[
                        ("content-type", CLOUDEVENT_CONTENT_TYPE.encode()),
                        ("ce_id", str(row.id).encode()),
                        ("ce_type", row.event_type.encode()),
                    ],
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await session.execute(
                update(Outbox)
                .where(Outbox.id.in_([row.id for row in rows]))
                .values(published_at=datetime.now(UTC), attempts=Outbox.attempts + 1)
            )
        OUTBOX_PUBLISHED.inc(len(rows))
        return len(rows)
