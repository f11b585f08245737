"""The catalog as stored: every pack with its listings, bundle items and managing file, read at once."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog.model import ListingSpec, PackSpec, PackVisuals
from shared.db.catalog_models import BundleItem, BundlePricing, CatalogFileMembership
from shared.db.models import BillingCatalog, BillingCatalogProvider
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider


@dataclass(frozen=True)
class StoredListing:
    provider: Provider
    product_id: str
    price: int
    currency: str
    provider_ids: dict[str, Any]


@dataclass(frozen=True)
class StoredPack:
    """One ``billing_catalog`` row and what hangs off it."""

    row: BillingCatalog
    listings: dict[Provider, StoredListing]
    children: list[str]  # bundle child slugs in order; empty for a plain pack
    pricing: BundlePricing | None  # present exactly when the pack is a bundle
    catalog_name: str | None

    @property
    def id(self) -> uuid.UUID:
        return self.row.id

    @property
    def is_bundle(self) -> bool:
        return self.pricing is not None

    def spec(self) -> PackSpec:
        """The pack as its author wrote it: derived bundle values are left out again."""
        own = self.pricing.own_provider_prices if self.pricing else {}
        providers = {
            provider: ListingSpec.model_construct(
                product_id=listing.product_id,
                price=listing.price if not self.is_bundle else own.get(provider.value, {}).get("price"),
                currency=listing.currency
                if not self.is_bundle
                else own.get(provider.value, {}).get("currency"),
            )
            for provider, listing in self.listings.items()
        }
        fields: dict[str, Any] = {
            "slug": self.row.slug,
            "display_name": self.row.display_name,
            "description": self.row.description,
            "features": [] if self.is_bundle else list(self.row.features),
            "feature_flags": dict(self.row.feature_flags),
            "price": self.pricing.own_price if self.pricing else self.row.default_price,
            "billing_kind": BillingKind(self.row.billing_kind),
            "billing_period": self.row.billing_period,
            "visuals": PackVisuals.model_construct(**self.row.visuals),
            "providers": providers,
            "bundle": list(self.children),
            "active": self.row.is_active,
        }
        if self.pricing is None or self.pricing.own_price is not None:
            fields["currency"] = self.row.currency  # a derived bundle price carries its children's currency
        return PackSpec.model_construct(**fields)


async def load_stored_catalog(session: AsyncSession) -> dict[str, StoredPack]:
    """Every pack, active or not, keyed by slug.

    The packs are read last: a reader without the catalog writer's lock (catalog_sync, the admin API)
    may run beside an apply, and each statement sees what was committed when it started. A bundle
    item or listing seen earlier was committed with its packs, and packs are never deleted, so every
    pack they name is in the later read.
    """
    items = (
        await session.execute(select(BundleItem).order_by(BundleItem.bundle_id, BundleItem.position))
    ).scalars()
    bundle_items = list(items)
    listings: dict[uuid.UUID, dict[Provider, StoredListing]] = {}
    mapping_rows = await session.execute(select(BillingCatalogProvider).order_by(BillingCatalogProvider.id))
    for mapping in mapping_rows.scalars():
        listing = StoredListing(
            Provider(mapping.provider),
            mapping.provider_product_id,
            mapping.price,
            mapping.currency,
            dict(mapping.provider_ids),
        )
        listings.setdefault(mapping.catalog_id, {}).setdefault(listing.provider, listing)
    pricing = {p.catalog_id: p for p in (await session.execute(select(BundlePricing))).scalars()}
    files = {
        m.catalog_id: m.catalog_name for m in (await session.execute(select(CatalogFileMembership))).scalars()
    }
    packs = (await session.execute(select(BillingCatalog).order_by(BillingCatalog.slug))).scalars().all()
    slug_of = {pack.id: pack.slug for pack in packs}
    children: dict[uuid.UUID, list[str]] = {}
    for item in bundle_items:
        children.setdefault(item.bundle_id, []).append(slug_of[item.child_id])
    return {
        pack.slug: StoredPack(
            pack,
            listings.get(pack.id, {}),
            children.get(pack.id, []),
            pricing.get(pack.id),
            files.get(pack.id),
        )
        for pack in packs
    }
