"""One reconciliation: per provider, read its catalog, compare with ours, push fixes, record a report."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.catalog.provider_catalog import Divergence, ProviderCatalog, WantedListing
from shared.db.catalog_sync import record_sync_report, remember_provider_ids, wanted_listings
from shared.db.unit_of_work import unit_of_work
from shared.domain.errors import ProviderError
from shared.domain.provider import Provider

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SyncOutcome:
    """What one provider's reconciliation found and did (also the stored report)."""

    provider: Provider
    status: str  # in_sync | synced | partial | failed
    differences: list[dict[str, Any]]
    pushed: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    error: str | None = None


async def reconcile(
    sessions: async_sessionmaker[AsyncSession],
    catalogs: Sequence[ProviderCatalog],
    *,
    trigger: str,
    push: bool = True,
) -> list[SyncOutcome]:
    """Every provider once; with ``push`` the fixes are made and a report is stored per provider."""
    async with sessions() as session:
        wanted = await wanted_listings(session)
    outcomes = []
    for catalog in catalogs:
        started_at = datetime.now(UTC)
        outcome = await _sync_provider(sessions, catalog, wanted[catalog.provider], push=push)
        if push:
            async with unit_of_work(sessions) as session:
                await record_sync_report(
                    session,
                    provider=outcome.provider,
                    trigger=trigger,
                    status=outcome.status,
                    started_at=started_at,
                    differences=outcome.differences,
                    pushed=outcome.pushed,
                    failed=outcome.failed,
                    error=outcome.error,
                )
        log.info(
            "catalog_sync_report",
            provider=outcome.provider.value,
            trigger=trigger,
            status=outcome.status,
            differences=len(outcome.differences),
            pushed=outcome.pushed,
            failed=outcome.failed,
            error=outcome.error,
        )
        outcomes.append(outcome)
    return outcomes


async def _sync_provider(
    sessions: async_sessionmaker[AsyncSession],
    catalog: ProviderCatalog,
    wanted: list[WantedListing],
    *,
    push: bool,
) -> SyncOutcome:
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
