"""The backlog gauges an SRE alerts on, refreshed on a schedule by catalog_sync (one process per
deployment, so each series has one source): consumer lag, dead-letter depth, outbox backlog, secret age.

Each collector refreshes on its own: one that fails (Kafka or Postgres down) keeps its gauges at their
last values, counts the failure and leaves its last-success time behind, which alerts can see.
A secret past the rotation policy is also logged as a warning, once a day per process.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backlog_metrics.kafka_backlog import KafkaBacklog
from shared.backlog_metrics.outbox_backlog import outbox_backlog
from shared.backlog_metrics.secret_age import secret_ages
from shared.observability.metrics import (
    COLLECTOR_FAILURES,
    COLLECTOR_LAST_SUCCESS,
    CONSUMER_LAG,
    DEAD_LETTER_DEPTH,
    OUTBOX_BACKLOG_ROWS,
    OUTBOX_OLDEST_AGE_SECONDS,
    SECRET_AGE_SECONDS,
    SECRET_AGE_UNKNOWN,
    SECRET_MAX_AGE_SECONDS,
)
from shared.security.secrets import SecretProvider

log = structlog.get_logger(__name__)
REMINDER_INTERVAL = timedelta(days=1)


class LabelledSeries:
    """Sets a labelled gauge to a full new picture, removing the series that are no longer in it."""

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge
        self._shown: set[tuple[str, ...]] = set()

    def show(self, values: dict[tuple[str, ...], float]) -> None:
        for labels, value in values.items():
            self._gauge.labels(*labels).set(value)
        for gone in self._shown - set(values):
            self._gauge.remove(*gone)
        self._shown = set(values)


class BacklogGauges:
    def __init__(
        self,
        kafka: KafkaBacklog,
        sessions: async_sessionmaker[AsyncSession],
        secrets: SecretProvider,
        secret_names: Collection[str],
        secret_max_age: timedelta,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._kafka = kafka
        self._sessions = sessions
        self._secrets = secrets
        self._secret_names = secret_names
        self._max_age = secret_max_age
        self._now = wall_clock
        self._lag = LabelledSeries(CONSUMER_LAG)
        self._ages = LabelledSeries(SECRET_AGE_SECONDS)
        self._unknown = LabelledSeries(SECRET_AGE_UNKNOWN)
        self._reminded: dict[str, datetime] = {}

    async def run_forever(self, interval_s: float) -> None:
        try:
            while True:
                await self.refresh()
                await asyncio.sleep(interval_s)
        finally:
            await self._kafka.close()

    async def refresh(self) -> None:
        await self._collect("consumer_lag", self._consumer_lag)
        await self._collect("dead_letters", self._dead_letters)
        await self._collect("outbox", self._outbox)
        await self._collect("secret_age", self.refresh_secret_age)

    async def _collect(self, name: str, collector: Callable[[], Awaitable[None]]) -> None:
        try:
            await collector()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a dependency down: the next round tries again
            COLLECTOR_FAILURES.labels(name).inc()
            log.warning("metrics_collector_failed", collector=name, error=type(exc).__name__)
            return
        COLLECTOR_LAST_SUCCESS.labels(name).set(time.time())

    async def _consumer_lag(self) -> None:
        lags = await self._kafka.consumer_lag()
        self._lag.show({(p.group, p.topic, str(p.partition)): p.lag for p in lags})

    async def _dead_letters(self) -> None:
        for topic, depth in (await self._kafka.dead_letter_depth()).items():
            DEAD_LETTER_DEPTH.labels(topic).set(depth)

    async def _outbox(self) -> None:
        backlog = await outbox_backlog(self._sessions)
        OUTBOX_BACKLOG_ROWS.set(backlog.rows)
        OUTBOX_OLDEST_AGE_SECONDS.set(backlog.oldest_age_s)

    async def refresh_secret_age(self) -> None:
        """Secret ages against the policy; an overdue secret is logged, once a day per process."""
        now = self._now()
        ages = await secret_ages(self._secrets, self._secret_names, now)
        for age in ages:
            SECRET_MAX_AGE_SECONDS.labels(age.name).set(self._max_age.total_seconds())
        self._ages.show({(a.name,): a.age_s for a in ages if a.age_s is not None})
        self._unknown.show({(a.name,): 1 for a in ages if a.age_s is None})
        for age in ages:
            if age.age_s is not None and age.age_s > self._max_age.total_seconds():
                self._remind(age.name, age.age_s, now)

    def _remind(self, name: str, age_s: float, now: datetime) -> None:
        last = self._reminded.get(name)
        if last is None or now - last >= REMINDER_INTERVAL:
            self._reminded[name] = now
            log.warning(
                "secret_rotation_overdue",
                secret=name,
                age_days=round(age_s / 86400, 1),
                policy_days=self._max_age.days,
                fix=f"billing secrets rotate {name}",
            )
