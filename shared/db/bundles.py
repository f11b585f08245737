"""Bundle purchases: one entitlement per child pack, all carrying the bundle as purchase reference.

A settled bundle grants each plain pack under it (bundles may nest); the child entitlements'
``purchase_reference`` is ``bundle:<bundle slug>:<provider purchase reference>``, so a later update
of the bundle purchase (renewal, revocation) reaches exactly those entitlements and never one the
user bought separately.
"""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.catalog_models import BundleItem
from shared.db.models import BillingCatalog, BillingCatalogProvider, UserEntitlement

BUNDLE_REFERENCE_PREFIX = "bundle:"


def bundle_purchase_reference(bundle_slug: str, purchase_reference: str) -> str:
    return f"{BUNDLE_REFERENCE_PREFIX}{bundle_slug}:{purchase_reference}"


def bundle_slug_of_reference(purchase_reference: str) -> str | None:
    """The bundle an entitlement was granted through, or None for a pack bought on its own."""
    if not purchase_reference.startswith(BUNDLE_REFERENCE_PREFIX):
        return None
    return purchase_reference.removeprefix(BUNDLE_REFERENCE_PREFIX).split(":", 1)[0]


async def bundle_leaves(session: AsyncSession, bundle_id: uuid.UUID) -> list[BillingCatalog]:
    """The plain packs under a bundle, nested bundles expanded; empty for a plain pack."""
    leaves: dict[uuid.UUID, BillingCatalog] = {}
    seen = {bundle_id}
    level = [bundle_id]
    while level:
        rows = await session.execute(
            select(BundleItem.bundle_id, BillingCatalog)
            .join(BillingCatalog, BillingCatalog.id == BundleItem.child_id)
            .where(BundleItem.bundle_id.in_(level))
            .order_by(BundleItem.bundle_id, BundleItem.position)
        )
        children = [child for _, child in rows]
        child_ids = {child.id for child in children}
        nested = set(
            (await session.execute(select(BundleItem.bundle_id).where(BundleItem.bundle_id.in_(child_ids))))
            .scalars()
            .all()
        )
        level = []
        for child in children:
            if child.id in nested:
                if child.id not in seen:  # the catalog forbids cycles; this only guards the loop
                    seen.add(child.id)
                    level.append(child.id)
            else:
                leaves.setdefault(child.id, child)
    return list(leaves.values())


async def purchased_pack(session: AsyncSession, row: UserEntitlement) -> tuple[uuid.UUID | None, str]:
    """The pack the provider sold for ``row`` and its purchase reference at the provider.

    A child a bundle granted was sold as the bundle (``None`` when that bundle is gone).
    """
    slug = bundle_slug_of_reference(row.purchase_reference)
    if slug is None:
        return row.catalog_id, row.purchase_reference
    bundle = await session.scalar(select(BillingCatalog.id).where(BillingCatalog.slug == slug))
    return bundle, row.purchase_reference.removeprefix(f"{BUNDLE_REFERENCE_PREFIX}{slug}:")


async def provider_products(session: AsyncSession, provider: str, catalog_id: uuid.UUID) -> list[str]:
    """The provider's product ids that sell the pack, in a stable order."""
    rows = await session.execute(
        select(BillingCatalogProvider.provider_product_id)
        .where(BillingCatalogProvider.catalog_id == catalog_id, BillingCatalogProvider.provider == provider)
        .order_by(BillingCatalogProvider.provider_product_id)
    )
    return list(rows.scalars())
