"""Telemetry rollups (services/telemetry/): counts and money per hour, pack, provider and market.

No user id anywhere: the rollups count events, the dedupe table holds event ids, and the latency
pairs are keyed by a keyed hash of an update id. Money is integer minor units and msat, never float.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base

NO_VALUE = ""  # key columns are never null (part of the primary key): "" = not known / not applicable


class TelemetryRollup(Base):
    __tablename__ = "telemetry_rollups"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)  # a TelemetryType value
    pack: Mapped[str] = mapped_column(String(200), primary_key=True, default=NO_VALUE)
    provider: Mapped[str] = mapped_column(String(20), primary_key=True, default=NO_VALUE)
    market: Mapped[str] = mapped_column(String(2), primary_key=True, default=NO_VALUE)
    currency: Mapped[str] = mapped_column(String(8), primary_key=True, default=NO_VALUE)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_msat: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class TelemetryLatencyBucket(Base):
    """A histogram as integers: events per hour whose latency was at most ``le_ms`` (not cumulative)."""

    __tablename__ = "telemetry_latency_buckets"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    le_ms: Mapped[int] = mapped_column(Integer, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class TelemetryProcessedEvent(Base):
    """Each counted event's id (``<topic kind>:<CloudEvent id>``): a redelivery counts once."""

    __tablename__ = "telemetry_processed_events"

    event_key: Mapped[str] = mapped_column(String(250), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )  # pruned after the claims' retention (shared/db/pruning.py)


class TelemetryLatencyPair(Base):
    """A webhook's arrival and its entitlement's commit, whichever the consumer sees first."""

    __tablename__ = "telemetry_latency_pairs"
    # Aged by the half seen last for pruning (shared/db/pruning.py), as the processed events are.
    __table_args__ = (
        Index("ix_telemetry_latency_pairs_seen_at", text("coalesce(committed_at, received_at)")),
    )

    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sampled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


# Upper bounds (ms) of the latency buckets; the last one catches everything beyond.
LATENCY_BOUNDS_MS: tuple[int, ...] = (
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 2_147_483_647,
)  # fmt: skip
WEBHOOK_ACCEPT_MS = "webhook_accept_ms"
WEBHOOK_TO_ENTITLEMENT_MS = "webhook_to_entitlement_ms"
