"""The seed's ``sync_catalog`` for a provider with a ``ProviderCatalog``: read its catalog, compare it
with ours, push the fixes, remember the ids it learned; returns what it found and did.

Every connector's ``sync_catalog`` is this, on its own ``ProviderCatalog``; catalog_sync calls it
for each registered provider and stores the outcome as that run's report.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.catalog.provider_catalog import Divergence, ProviderCatalog, WantedListing
from shared.db.catalog_sync import remember_provider_ids, wanted_listings
from shared.db.unit_of_work import unit_of_work
from shared.domain.errors import ProviderError
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider


@dataclass(frozen=True)
class SyncOutcome:
    """What one provider's reconciliation found and did (also the stored report)."""

    provider: Provider
    status: str  # in_sync | synced | partial | failed (diverged: a dry run found differences)
    differences: list[dict[str, Any]]
    pushed: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    error: str | None = None


async def sync_provider_catalog(
    sessions: async_sessionmaker[AsyncSession],
    catalog: ProviderCatalog,
    packs: Sequence[MicroSaasPack],
    *,
    push: bool = True,
) -> SyncOutcome:
    """Make ``catalog`` sell ``packs`` as our catalog lists them there; without ``push`` only compare."""
    slugs = {pack.slug for pack in packs}
    async with sessions() as session:
        listed = (await wanted_listings(session))[catalog.provider]
    wanted = [listing for listing in listed if listing.slug in slugs]
    try:
        divergences = await catalog.divergences(wanted)
    except ProviderError as exc:  # after the client's bounded retries; the next run tries again
        return SyncOutcome(catalog.provider, "failed", [], [], [], str(exc))
    differences = [d.to_json() for d in divergences]
    if not push:
        return SyncOutcome(
            catalog.provider, "in_sync" if not divergences else "diverged", differences, [], []
        )
    await _remember(sessions, catalog.provider, wanted, catalog.learned_ids())
    by_product = {w.product_id: w for w in wanted}
    pushed: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for divergence in divergences:
        if not divergence.repairable or divergence.product_id not in by_product:
            continue
        try:
            repair = await catalog.repair(divergence, by_product[divergence.product_id])
        except ProviderError as exc:
            failed.append(divergence.to_json() | {"error": str(exc)})
            continue
        await _remember(sessions, catalog.provider, wanted, {divergence.product_id: repair.provider_ids})
        pushed.append(
            {"slug": divergence.slug, "product_id": divergence.product_id, "actions": repair.actions}
        )
    return SyncOutcome(catalog.provider, _status(divergences, failed), differences, pushed, failed)


def no_catalog(provider: Provider) -> SyncOutcome:
    """The outcome of a provider deployed without a catalog to keep (catalog_sync skips those)."""
    return SyncOutcome(provider, "failed", [], [], [], f"{provider.value} has no catalog configured")


def _status(divergences: list[Divergence], failed: list[dict[str, Any]]) -> str:
    if not divergences:
        return "in_sync"
    if failed or any(not d.repairable for d in divergences):
        return "partial"
    return "synced"


async def _remember(
    sessions: async_sessionmaker[AsyncSession],
    provider: Provider,
    wanted: list[WantedListing],
    learned: dict[str, dict[str, Any]],
) -> None:
    ours = {w.product_id for w in wanted}
    async with unit_of_work(sessions) as session:
        for product_id, ids in learned.items():
            if product_id in ours and ids:
                await remember_provider_ids(session, provider, product_id, ids)
