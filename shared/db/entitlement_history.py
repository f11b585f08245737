"""Reads of the entitlement history: a user's entitlements and feature grants as of a past time.

The state of an entitlement at ``at`` is, of its history rows with ``occurred_at`` (the provider's
clock) not after ``at``, the one the ledger's rule puts first (shared/domain/ledger.py: the newest,
and of two at one instant the one that wins whatever their arrival order; of equal ones the later
recorded). With ``known_at`` only rows recorded by then count: the answer we would have given then.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog.grants import FeatureGrant
from shared.db.entitlement_views import entitlement_view
from shared.db.feature_grants import pack_feature_grants
from shared.db.history_models import EntitlementHistory
from shared.db.ledger_writes import LedgerEntitlement
from shared.db.models import BillingCatalog
from shared.domain.entitlements import EntitlementStatus
from shared.domain.ledger import EntitlementState, Precedence


@dataclass(frozen=True)
class AsOf:
    at: datetime  # when it happened at the provider (occurred_at)
    known_at: datetime | None = None  # when we had learned it (recorded_at), None: by now


async def _states_as_of(
    session: AsyncSession, user_id: str, as_of: AsOf
) -> list[tuple[LedgerEntitlement, BillingCatalog]]:
    history = EntitlementHistory
    query = (
        select(history, BillingCatalog)
        .join(BillingCatalog, BillingCatalog.id == history.catalog_id)
        .where(history.user_id == user_id, history.occurred_at <= as_of.at)
    )
    if as_of.known_at is not None:
        query = query.where(history.recorded_at <= as_of.known_at)
    latest: dict[uuid.UUID, tuple[EntitlementHistory, BillingCatalog]] = {}
    for row, pack in await session.execute(query):
        held = latest.get(row.entitlement_id)
        if held is None or _rank(row) > _rank(held[0]):
            latest[row.entitlement_id] = (row, pack)
    # The order of the current list: by activation, then id.
    ordered = sorted(latest.values(), key=lambda held: (_activation_order(held[0]), held[0].entitlement_id))
    return [(_as_ledger_row(row), pack) for row, pack in ordered]


def _rank(row: EntitlementHistory) -> tuple[Precedence, int]:
    state = EntitlementState(
        EntitlementStatus(row.status), row.activated_at, row.expires_at, row.occurred_at, row.status_reason
    )
    return state.precedence, row.seq


def _activation_order(row: EntitlementHistory) -> tuple[bool, datetime]:
    return row.activated_at is None, row.activated_at or datetime.min.replace(tzinfo=UTC)


def _as_ledger_row(row: EntitlementHistory) -> LedgerEntitlement:
    return LedgerEntitlement(
        row.entitlement_id, row.user_id, row.catalog_id, row.source_provider, row.purchase_reference,
        row.status, row.activated_at, row.expires_at, row.occurred_at, row.status_reason,
    )  # fmt: skip


async def user_entitlements_as_of(session: AsyncSession, user_id: str, as_of: AsOf) -> list[dict[str, Any]]:
    """The user's entitlements as they stood at ``as_of``, in the shape of the current list."""
    return [entitlement_view(row, pack.slug) for row, pack in await _states_as_of(session, user_id, as_of)]


async def feature_grants_as_of(session: AsyncSession, user_id: str, as_of: AsOf) -> list[FeatureGrant]:
    """Every feature of every entitlement active at ``as_of`` (callers filter by expiry at ``as_of.at``).

    Features are the packs' features today: the catalog keeps no history.
    """
    return [
        grant
        for row, pack in await _states_as_of(session, user_id, as_of)
        if row.status == EntitlementStatus.ACTIVE.value
        for grant in pack_feature_grants(pack, row.purchase_reference, row.expires_at)
    ]


async def user_timeline(session: AsyncSession, user_id: str) -> list[tuple[EntitlementHistory, str]]:
    """Every history row of the user with its pack's slug, in the order things happened."""
    rows = await session.execute(
        select(EntitlementHistory, BillingCatalog.slug)
        .join(BillingCatalog, BillingCatalog.id == EntitlementHistory.catalog_id)
        .where(EntitlementHistory.user_id == user_id)
        .order_by(EntitlementHistory.occurred_at, EntitlementHistory.seq)
    )
    return [(row, slug) for row, slug in rows]
