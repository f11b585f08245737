"""The rollups' writes, inside the caller's unit of work: an event id is claimed first, so a
redelivered event adds nothing; the checkout behind a completion is read for its amounts."""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.telemetry.rollups import Counted, LatencySample, Paid
from shared.db.models import CheckoutSessionRecord
from shared.db.telemetry_models import (
    TelemetryLatencyBucket,
    TelemetryLatencyPair,
    TelemetryProcessedEvent,
    TelemetryRollup,
)


async def claim_event(session: AsyncSession, event_key: str) -> bool:
    """True the first time ``event_key`` is seen (the claim commits with the counts, or neither)."""
    claimed = await session.scalar(
        insert(TelemetryProcessedEvent)
        .values(event_key=event_key)
        .on_conflict_do_nothing()
        .returning(TelemetryProcessedEvent.event_key)
    )
    return claimed is not None


async def add_counts(session: AsyncSession, counted: list[Counted]) -> None:
    for item in counted:
        key = item.key
        statement = insert(TelemetryRollup).values(
            hour=key.hour,
            metric=key.metric,
            pack=key.pack,
            provider=key.provider,
            market=key.market,
            currency=key.currency,
            events=1,
            amount_minor=item.amount_minor,
            amount_msat=item.amount_msat,
        )
        table = TelemetryRollup.__table__.c
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["hour", "metric", "pack", "provider", "market", "currency"],
                set_={
                    "events": table.events + 1,
                    "amount_minor": table.amount_minor + statement.excluded.amount_minor,
                    "amount_msat": table.amount_msat + statement.excluded.amount_msat,
                },
            )
        )


async def add_latencies(session: AsyncSession, samples: list[LatencySample]) -> None:
    for sample in samples:
        statement = insert(TelemetryLatencyBucket).values(
            hour=sample.hour, metric=sample.metric, provider=sample.provider, le_ms=sample.le_ms, events=1
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["hour", "metric", "provider", "le_ms"],
                set_={"events": TelemetryLatencyBucket.__table__.c.events + 1},
            )
        )


async def pair_latency(
    session: AsyncSession,
    update_key: str,
    provider: str,
    *,
    received_at: datetime | None = None,
    committed_at: datetime | None = None,
) -> tuple[datetime, datetime] | None:
    """Record one half of a webhook → entitlement pair; both halves, the first time they meet."""
    statement = insert(TelemetryLatencyPair).values(
        update_key=update_key, provider=provider, received_at=received_at, committed_at=committed_at
    )
    columns = TelemetryLatencyPair.__table__.c
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["update_key"],
            set_={
                "received_at": func.coalesce(columns.received_at, statement.excluded.received_at),
                "committed_at": func.coalesce(columns.committed_at, statement.excluded.committed_at),
            },
        )
    )
    # The row is locked by the upsert until this transaction ends: one of the two halves samples it.
    completed = await session.execute(
        update(TelemetryLatencyPair)
        .where(
            and_(
                TelemetryLatencyPair.update_key == update_key,
                TelemetryLatencyPair.sampled.is_(False),
                TelemetryLatencyPair.received_at.is_not(None),
                TelemetryLatencyPair.committed_at.is_not(None),
            )
        )
        .values(sampled=True)
        .returning(TelemetryLatencyPair.received_at, TelemetryLatencyPair.committed_at)
    )
    row = completed.first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return row[0], row[1]


async def paid_for(session: AsyncSession, data: dict[str, Any], moment: datetime) -> Paid | None:
    """The checkout an activation completes: Lightning's by its payment hash; RevenueCat's (which
    learns the store's transaction only at purchase) the user's latest of that pack before it."""
    provider = data.get("source_provider")
    query = select(CheckoutSessionRecord.details).where(CheckoutSessionRecord.provider == provider)
    if provider == "lightning":
        query = query.where(CheckoutSessionRecord.purchase_reference == data.get("purchase_reference"))
    else:
        query = query.where(
            CheckoutSessionRecord.user_id == data.get("user_id"),
            CheckoutSessionRecord.catalog_id == data.get("pack_id"),
            CheckoutSessionRecord.created_at <= moment,
        )
    details = await session.scalar(query.order_by(CheckoutSessionRecord.created_at.desc()).limit(1))
    if details is None:
        return None
    return Paid(
        currency=str(details.get("currency") or ""),
        amount_minor=int(details.get("amountMinor") or 0),
        amount_msat=int(details.get("amountMsat") or 0),
    )
