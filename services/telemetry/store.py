"""The rollups' writes, inside the caller's unit of work, one statement per table for a whole batch:
event ids are claimed first, so a redelivered event adds nothing; the checkout behind a completion is
read for its amounts.

Rows are written in key order, so two consumers upserting the same rows lock them in the same order.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import astuple
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.telemetry.rollups import (
    Counted,
    LatencySample,
    Paid,
    PairHalf,
    RollupKey,
    webhook_to_entitlement,
)
from shared.db.models import CheckoutSessionRecord

CLAIM_EVENTS = text(
    "INSERT INTO telemetry_processed_events (event_key) SELECT unnest(CAST(:keys AS text[])) "
    "ON CONFLICT DO NOTHING RETURNING event_key"
)
ADD_COUNTS = text(
    "INSERT INTO telemetry_rollups "
    "(hour, metric, pack, provider, market, currency, events, amount_minor, amount_msat) "
    "SELECT * FROM unnest(CAST(:hours AS timestamptz[]), CAST(:metrics AS text[]), CAST(:packs AS text[]), "
    "CAST(:providers AS text[]), CAST(:markets AS text[]), CAST(:currencies AS text[]), "
    "CAST(:events AS bigint[]), CAST(:minor AS bigint[]), CAST(:msat AS bigint[])) "
    "ON CONFLICT (hour, metric, pack, provider, market, currency) DO UPDATE SET "
    "events = telemetry_rollups.events + excluded.events, "
    "amount_minor = telemetry_rollups.amount_minor + excluded.amount_minor, "
    "amount_msat = telemetry_rollups.amount_msat + excluded.amount_msat"
)
ADD_LATENCIES = text(
    "INSERT INTO telemetry_latency_buckets (hour, metric, provider, le_ms, events) "
    "SELECT * FROM unnest(CAST(:hours AS timestamptz[]), CAST(:metrics AS text[]), "
    "CAST(:providers AS text[]), CAST(:bounds AS integer[]), CAST(:events AS bigint[])) "
    "ON CONFLICT (hour, metric, provider, le_ms) DO UPDATE SET "
    "events = telemetry_latency_buckets.events + excluded.events"
)
ADD_PAIR_HALVES = text(
    "INSERT INTO telemetry_latency_pairs (update_key, provider, received_at, committed_at) "
    "SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:providers AS text[]), "
    "CAST(:received AS timestamptz[]), CAST(:committed AS timestamptz[])) "
    "ON CONFLICT (update_key) DO UPDATE SET "
    "received_at = coalesce(telemetry_latency_pairs.received_at, excluded.received_at), "
    "committed_at = coalesce(telemetry_latency_pairs.committed_at, excluded.committed_at)"
)
# The upsert locked the rows until this transaction ends: of the two halves, one samples the pair.
SAMPLE_COMPLETE_PAIRS = text(
    "UPDATE telemetry_latency_pairs SET sampled = true WHERE update_key = ANY(CAST(:keys AS text[])) "
    "AND NOT sampled AND received_at IS NOT NULL AND committed_at IS NOT NULL "
    "RETURNING provider, received_at, committed_at"
)


async def claim_events(session: AsyncSession, event_keys: Sequence[str]) -> set[str]:
    """The keys seen for the first time (the claims commit with the counts, or neither)."""
    if not event_keys:
        return set()
    claimed = await session.scalars(CLAIM_EVENTS, {"keys": sorted(set(event_keys))})
    return set(claimed)


async def add_counts(session: AsyncSession, counted: Sequence[Counted]) -> None:
    totals: dict[RollupKey, tuple[int, int, int]] = {}
    for item in counted:
        events, minor, msat = totals.get(item.key, (0, 0, 0))
        totals[item.key] = (events + 1, minor + item.amount_minor, msat + item.amount_msat)
    if not totals:
        return
    keys = sorted(totals, key=astuple)
    await session.execute(
        ADD_COUNTS,
        {
            "hours": [k.hour for k in keys],
            "metrics": [k.metric for k in keys],
            "packs": [k.pack for k in keys],
            "providers": [k.provider for k in keys],
            "markets": [k.market for k in keys],
            "currencies": [k.currency for k in keys],
            "events": [totals[k][0] for k in keys],
            "minor": [totals[k][1] for k in keys],
            "msat": [totals[k][2] for k in keys],
        },
    )


async def add_latencies(session: AsyncSession, samples: Sequence[LatencySample]) -> None:
    buckets = sorted(Counter((s.hour, s.metric, s.provider, s.le_ms) for s in samples).items())
    if not buckets:
        return
    await session.execute(
        ADD_LATENCIES,
        {
            "hours": [bucket[0] for bucket, _ in buckets],
            "metrics": [bucket[1] for bucket, _ in buckets],
            "providers": [bucket[2] for bucket, _ in buckets],
            "bounds": [bucket[3] for bucket, _ in buckets],
            "events": [events for _, events in buckets],
        },
    )


async def pair_latencies(session: AsyncSession, halves: Sequence[PairHalf]) -> list[LatencySample]:
    """Record each half of a webhook → entitlement pair; a sample for every pair completed now."""
    merged: dict[str, PairHalf] = {}
    for half in halves:
        known = merged.get(half.update_key)
        merged[half.update_key] = known.joined(half) if known else half
    if not merged:
        return []
    keys = sorted(merged)
    await session.execute(
        ADD_PAIR_HALVES,
        {
            "keys": keys,
            "providers": [merged[k].provider for k in keys],
            "received": [merged[k].received_at for k in keys],
            "committed": [merged[k].committed_at for k in keys],
        },
    )
    completed = await session.execute(SAMPLE_COMPLETE_PAIRS, {"keys": keys})
    return [
        webhook_to_entitlement(received, committed, provider)
        for provider, received, committed in completed.all()
    ]


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
