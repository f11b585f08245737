"""Reads of the entitlement history: a user's entitlements and feature grants as of a past time.

The state of an entitlement at ``at`` is its history row with the newest ``occurred_at`` not after
``at`` (the provider's clock; of equal times the later recorded, as the ledger decides). With
``known_at`` only rows recorded by then count: the answer we would have given at that moment.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from shared.catalog.grants import FeatureGrant
from shared.db.entitlement_views import entitlement_view
from shared.db.feature_grants import pack_feature_grants
from shared.db.history_models import EntitlementHistory
from shared.db.ledger_writes import LedgerEntitlement
from shared.db.models import BillingCatalog
from shared.domain.entitlements import EntitlementStatus


@dataclass(frozen=True)
class AsOf:
    at: datetime  # when it happened at the provider (occurred_at)
    known_at: datetime | None = None  # when we had learned it (recorded_at), None: by now


async def _states_as_of(
    session: AsyncSession, user_id: str, as_of: AsOf
) -> list[tuple[LedgerEntitlement, BillingCatalog]]:
    history = EntitlementHistory
    rows = select(history).where(history.user_id == user_id, history.occurred_at <= as_of.at)
    if as_of.known_at is not None:
        rows = rows.where(history.recorded_at <= as_of.known_at)
    latest = (
        rows.ext(distinct_on(history.entitlement_id))
        .order_by(history.entitlement_id, history.occurred_at.desc(), history.seq.desc())
        .subquery()
    )
    state = aliased(EntitlementHistory, latest)
    found = await session.execute(
        select(state, BillingCatalog)
        .join(BillingCatalog, BillingCatalog.id == state.catalog_id)
        .order_by(state.activated_at, state.entitlement_id)
    )
    return [(_as_ledger_row(row), pack) for row, pack in found]


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
