"""What the admin dashboard reads from the telemetry rollups: sums over a window, integers only."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.telemetry_models import LATENCY_BOUNDS_MS, TelemetryLatencyBucket, TelemetryRollup

COMPLETIONS = ("checkout.completed", "invoice.settled")
ACTIVE_DELTA = {"entitlement.activated": 1, "entitlement.expired": -1, "entitlement.revoked": -1}


@dataclass
class FunnelRow:
    """One pack: its views, and per provider the checkouts started, completed and expired."""

    pack: str
    views: int = 0
    started: dict[str, int] = field(default_factory=dict)
    completed: dict[str, int] = field(default_factory=dict)
    expired: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Revenue:
    provider: str
    currency: str
    completions: int
    amount_minor: int
    amount_msat: int


async def funnel(session: AsyncSession, since: datetime, market: str | None) -> list[FunnelRow]:
    """Per pack, over the hours from ``since``; with ``market``, only events of that market."""
    metrics = ("pack.viewed", "checkout.started", "invoice.expired", *COMPLETIONS)
    query = (
        select(
            TelemetryRollup.pack,
            TelemetryRollup.provider,
            TelemetryRollup.metric,
            func.sum(TelemetryRollup.events),
        )
        .where(TelemetryRollup.hour >= since, TelemetryRollup.metric.in_(metrics), TelemetryRollup.pack != "")
        .group_by(TelemetryRollup.pack, TelemetryRollup.provider, TelemetryRollup.metric)
    )
    if market is not None:
        query = query.where(TelemetryRollup.market == market)
    rows: dict[str, FunnelRow] = {}
    for pack, provider, metric, events in await session.execute(query):
        row = rows.setdefault(pack, FunnelRow(pack))
        if metric == "pack.viewed":
            row.views += int(events)
        else:
            column = {"checkout.started": row.started, "invoice.expired": row.expired}.get(
                metric, row.completed
            )
            column[provider] = column.get(provider, 0) + int(events)
    return [rows[pack] for pack in sorted(rows)]


async def revenue(session: AsyncSession, since: datetime) -> list[Revenue]:
    query = (
        select(
            TelemetryRollup.provider,
            TelemetryRollup.currency,
            func.sum(TelemetryRollup.events),
            func.sum(TelemetryRollup.amount_minor),
            func.sum(TelemetryRollup.amount_msat),
        )
        .where(TelemetryRollup.hour >= since, TelemetryRollup.metric.in_(COMPLETIONS))
        .group_by(TelemetryRollup.provider, TelemetryRollup.currency)
        .order_by(TelemetryRollup.provider, TelemetryRollup.currency)
    )
    return [
        Revenue(p, c, int(n), int(minor), int(msat)) for p, c, n, minor, msat in await session.execute(query)
    ]


async def active_entitlements_by_hour(
    session: AsyncSession, since: datetime
) -> tuple[list[tuple[datetime, int]], int]:
    """Entitlements active at the end of each hour from ``since`` that changed it, and now
    (activations minus expiries and revocations, over all time)."""
    query = (
        select(TelemetryRollup.hour, TelemetryRollup.metric, func.sum(TelemetryRollup.events))
        .where(TelemetryRollup.metric.in_(ACTIVE_DELTA))
        .group_by(TelemetryRollup.hour, TelemetryRollup.metric)
    )
    change: dict[datetime, int] = defaultdict(int)
    for hour, metric, events in await session.execute(query):
        change[hour] += ACTIVE_DELTA[metric] * int(events)
    active, series = 0, []
    for hour in sorted(change):
        active += change[hour]
        if hour >= since:
            series.append((hour, active))
    return series, active


async def latency_buckets(session: AsyncSession, since: datetime, metric: str) -> dict[str, dict[int, int]]:
    """provider → bucket upper bound (ms) → events, over the hours from ``since``."""
    query = (
        select(
            TelemetryLatencyBucket.provider,
            TelemetryLatencyBucket.le_ms,
            func.sum(TelemetryLatencyBucket.events),
        )
        .where(TelemetryLatencyBucket.hour >= since, TelemetryLatencyBucket.metric == metric)
        .group_by(TelemetryLatencyBucket.provider, TelemetryLatencyBucket.le_ms)
    )
    buckets: dict[str, dict[int, int]] = defaultdict(dict)
    for provider, le_ms, events in await session.execute(query):
        buckets[provider][int(le_ms)] = int(events)
    return dict(buckets)


def percentile_ms(buckets: dict[int, int], percent: int) -> int | None:
    """The upper bound of the bucket holding the ``percent``-th percentile (None without samples)."""
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = -(-total * percent // 100)  # ceiling, in integers
    seen = 0
    for bound in LATENCY_BOUNDS_MS:
        seen += buckets.get(bound, 0)
        if seen >= rank:
            return bound
    return LATENCY_BOUNDS_MS[-1]
