"""The ledger's writes for a whole batch: one statement per table, arrays bound through ``unnest``."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def erased_event_id_sql(expression: str) -> str:
    """SQL for the form an erasure leaves a claimed event id in: ``erased:`` and its SHA-256.

    An id such as "<event id>:<user id>:<product>" names the user, so an erasure may not keep it; but a
    provider's retry of that event must still find it claimed, or the retry would re-create the erased
    user's entitlement and announce it again. The digest keeps the claim without the name.
    """
    return f"'erased:' || encode(sha256(convert_to({expression}, 'UTF8')), 'hex')"


# A key is new unless it, or its erased form, was claimed before.
CLAIM_EVENTS = text(
    "INSERT INTO processed_events (provider, provider_event_id) "  # noqa: S608 (a fixed expression)
    "SELECT k.provider, k.id FROM unnest(CAST(:providers AS text[]), CAST(:ids AS text[])) "
    "AS k(provider, id) WHERE NOT EXISTS (SELECT 1 FROM processed_events e WHERE e.provider = k.provider "
    f"AND e.provider_event_id = {erased_event_id_sql('k.id')}) "
    "ON CONFLICT DO NOTHING RETURNING provider, provider_event_id"
)
UPSERT_ENTITLEMENTS = text(
    "INSERT INTO user_entitlements (id, user_id, catalog_id, source_provider, purchase_reference, status, "
    "activated_at, expires_at, last_event_at, status_reason, updated_at) "
    "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:users AS text[]), CAST(:catalogs AS uuid[]), "
    "CAST(:providers AS text[]), CAST(:references AS text[]), CAST(:statuses AS text[]), "
    "CAST(:activated AS timestamptz[]), CAST(:expires AS timestamptz[]), "
    "CAST(:last_events AS timestamptz[]), CAST(:reasons AS text[]), CAST(:updated AS timestamptz[])) "
    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, activated_at = excluded.activated_at, "
    "expires_at = excluded.expires_at, last_event_at = excluded.last_event_at, "
    "status_reason = excluded.status_reason, updated_at = excluded.updated_at"
)
# WITH ORDINALITY + ORDER BY: the outbox's identity ``seq`` follows the order the events happened in.
INSERT_OUTBOX = text(
    "INSERT INTO outbox (id, topic, key, event_type, payload, attempts) "
    "SELECT id, topic, key, event_type, CAST(payload AS jsonb), 0 FROM unnest(CAST(:ids AS uuid[]), "
    "CAST(:topics AS text[]), CAST(:keys AS text[]), CAST(:types AS text[]), CAST(:payloads AS text[])) "
    "WITH ORDINALITY AS o(id, topic, key, event_type, payload, n) ORDER BY n"
)
# ``seq`` follows the order the batch took the updates in; ``recorded_at`` is the database's clock.
INSERT_HISTORY = text(
    "INSERT INTO entitlement_history (entitlement_id, user_id, catalog_id, source_provider, "
    "purchase_reference, status, activated_at, expires_at, status_reason, provider_event_id, "
    "provider_event_type, occurred_at, applied, announced) "
    "SELECT entitlement_id, user_id, catalog_id, source_provider, purchase_reference, status, "
    "activated_at, expires_at, status_reason, provider_event_id, provider_event_type, occurred_at, "
    "applied, announced FROM unnest(CAST(:entitlements AS uuid[]), CAST(:users AS text[]), "
    "CAST(:catalogs AS uuid[]), CAST(:providers AS text[]), CAST(:references AS text[]), "
    "CAST(:statuses AS text[]), CAST(:activated AS timestamptz[]), CAST(:expires AS timestamptz[]), "
    "CAST(:reasons AS text[]), CAST(:event_ids AS text[]), CAST(:event_types AS text[]), "
    "CAST(:occurred AS timestamptz[]), CAST(:applied AS boolean[]), CAST(:announced AS text[])) "
    "WITH ORDINALITY AS h(entitlement_id, user_id, catalog_id, source_provider, purchase_reference, "
    "status, activated_at, expires_at, status_reason, provider_event_id, provider_event_type, "
    "occurred_at, applied, announced, n) ORDER BY n"
)


@dataclass
class LedgerEntitlement:
    """One entitlement as the batch sees it: loaded (FOR UPDATE) or new, changed in memory."""

    id: uuid.UUID
    user_id: str
    catalog_id: uuid.UUID
    source_provider: str
    purchase_reference: str
    status: str
    activated_at: datetime | None
    expires_at: datetime | None
    last_event_at: datetime
    status_reason: str | None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class OutboxEvent:
    id: uuid.UUID
    topic: str
    key: str
    event_type: str
    payload: dict[str, object]


@dataclass(frozen=True)
class HistoryEntry:
    """One update as it reached one entitlement: the state it says held from ``occurred_at`` on."""

    entitlement_id: uuid.UUID
    user_id: str
    catalog_id: uuid.UUID
    source_provider: str
    purchase_reference: str
    status: str
    activated_at: datetime | None
    expires_at: datetime | None
    status_reason: str | None
    provider_event_id: str
    provider_event_type: str
    occurred_at: datetime
    applied: bool
    announced: str | None


async def claim_events(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Record the (provider, event id) keys as processed; returns those that were not already."""
    if not keys:
        return set()
    rows = await session.execute(
        CLAIM_EVENTS, {"providers": [p for p, _ in keys], "ids": [i for _, i in keys]}
    )
    return {(provider, event_id) for provider, event_id in rows}


async def upsert_entitlements(session: AsyncSession, rows: Sequence[LedgerEntitlement]) -> None:
    if not rows:
        return
    await session.execute(
        UPSERT_ENTITLEMENTS,
        {
            "ids": [r.id for r in rows],
            "users": [r.user_id for r in rows],
            "catalogs": [r.catalog_id for r in rows],
            "providers": [r.source_provider for r in rows],
            "references": [r.purchase_reference for r in rows],
            "statuses": [r.status for r in rows],
            "activated": [r.activated_at for r in rows],
            "expires": [r.expires_at for r in rows],
            "last_events": [r.last_event_at for r in rows],
            "reasons": [r.status_reason for r in rows],
            "updated": [r.updated_at for r in rows],
        },
    )


async def insert_outbox(session: AsyncSession, events: Sequence[OutboxEvent]) -> None:
    if not events:
        return
    await session.execute(
        INSERT_OUTBOX,
        {
            "ids": [e.id for e in events],
            "topics": [e.topic for e in events],
            "keys": [e.key for e in events],
            "types": [e.event_type for e in events],
            "payloads": [orjson.dumps(e.payload).decode() for e in events],
        },
    )


async def insert_history(session: AsyncSession, entries: Sequence[HistoryEntry]) -> None:
    if not entries:
        return
    await session.execute(
        INSERT_HISTORY,
        {
            "entitlements": [e.entitlement_id for e in entries],
            "users": [e.user_id for e in entries],
            "catalogs": [e.catalog_id for e in entries],
            "providers": [e.source_provider for e in entries],
            "references": [e.purchase_reference for e in entries],
            "statuses": [e.status for e in entries],
            "activated": [e.activated_at for e in entries],
            "expires": [e.expires_at for e in entries],
            "reasons": [e.status_reason for e in entries],
            "event_ids": [e.provider_event_id for e in entries],
            "event_types": [e.provider_event_type for e in entries],
            "occurred": [e.occurred_at for e in entries],
            "applied": [e.applied for e in entries],
            "announced": [e.announced for e in entries],
        },
    )
