"""Which of our packs a RevenueCat product stands for (from ``billing_catalog_provider``)."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import BillingCatalogProvider
from shared.domain.provider import Provider


@dataclass(frozen=True)
class RevenueCatListing:
    """How one pack is sold on RevenueCat: its product and the ids catalog sync learned."""

    pack_id: uuid.UUID
    product_id: str
    provider_ids: dict[str, Any]

    @property
    def web_purchase_link_token(self) -> str | None:
        value = self.provider_ids.get("web_purchase_link_token")
        return str(value) if value else None


async def revenuecat_listings(session: AsyncSession) -> list[RevenueCatListing]:
    rows = await session.execute(
        select(BillingCatalogProvider).where(BillingCatalogProvider.provider == Provider.REVENUECAT.value)
    )
    return [
        RevenueCatListing(row.catalog_id, row.provider_product_id, dict(row.provider_ids or {}))
        for row in rows.scalars()
    ]


async def pack_ids_by_product(session: AsyncSession) -> dict[str, uuid.UUID]:
    """RevenueCat product id → pack id, for every pack we sell on RevenueCat."""
    return {listing.product_id: listing.pack_id for listing in await revenuecat_listings(session)}


async def listing_for_pack(session: AsyncSession, pack_id: uuid.UUID) -> RevenueCatListing | None:
    row = (
        await session.execute(
            select(BillingCatalogProvider).where(
                BillingCatalogProvider.catalog_id == pack_id,
                BillingCatalogProvider.provider == Provider.REVENUECAT.value,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return RevenueCatListing(row.catalog_id, row.provider_product_id, dict(row.provider_ids or {}))
