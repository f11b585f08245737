"""What catalog sync reads and writes in Postgres: wanted listings, learned provider ids, reports."""

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog.gating import available_at
from shared.catalog.provider_catalog import WantedListing
from shared.db.catalog_models import CatalogSyncReport
from shared.db.catalog_state import StoredPack, load_stored_catalog
from shared.db.models import BillingCatalogProvider
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider


async def wanted_listings(session: AsyncSession) -> dict[Provider, list[WantedListing]]:
    """Every pack listed at each provider, as that provider should sell it."""
    wanted: dict[Provider, list[WantedListing]] = {provider: [] for provider in Provider}
    for pack in (await load_stored_catalog(session)).values():
        for provider in pack.listings:
            wanted[provider].append(_wanted(pack, provider))
    return wanted


def _wanted(pack: StoredPack, provider: Provider) -> WantedListing:
    row, listing = pack.row, pack.listings[provider]
    return WantedListing(
        slug=row.slug,
        product_id=listing.product_id,
        display_name=row.display_name,
        description=row.description,
        features=[f for f in row.features if row.feature_flags.get(f, True)],
        billing_kind=BillingKind(row.billing_kind),
        billing_period=row.billing_period,
        price=listing.price,
        currency=listing.currency,
        sell=row.is_active and available_at(row.feature_flags, provider),
        visuals=dict(row.visuals),
        provider_ids=dict(listing.provider_ids),
    )


async def remember_provider_ids(
    session: AsyncSession, provider: Provider, product_id: str, learned: dict[str, Any]
) -> None:
    """Merge ids a sync learned into the listing (the adapters read them, e.g. the entitlement key)."""
    row = (
        await session.execute(
            select(BillingCatalogProvider).where(
                BillingCatalogProvider.provider == provider.value,
                BillingCatalogProvider.provider_product_id == product_id,
            )
        )
    ).scalar_one_or_none()
    if row is None or {**row.provider_ids, **learned} == row.provider_ids:
        return
    await session.execute(
        update(BillingCatalogProvider)
        .where(BillingCatalogProvider.id == row.id)
        .values(provider_ids={**row.provider_ids, **learned})
    )


async def record_sync_report(
    session: AsyncSession,
    *,
    provider: Provider,
    trigger: str,
    status: str,
    started_at: datetime,
    differences: list[dict[str, Any]],
    pushed: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    error: str | None,
) -> CatalogSyncReport:
    report = CatalogSyncReport(
        provider=provider.value,
        trigger=trigger,
        status=status,
        started_at=started_at,
        differences=differences,
        pushed=pushed,
        failed=failed,
        error=error,
    )
    session.add(report)
    await session.flush()
    return report
