"""What ``billing reconcile`` reads from our side: who to check, their ledger rows, where a purchase lands."""

import uuid
from collections.abc import Iterable

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.bundles import bundle_leaves, bundle_purchase_reference, provider_products, purchased_pack
from shared.db.models import BillingCatalog, BillingCatalogProvider, CheckoutSessionRecord, UserEntitlement
from shared.domain.entitlements import EntitlementStatus
from shared.domain.provider import Provider
from shared.domain.reconciliation import Landings, LedgerEntry, LedgerKey


async def users_to_reconcile(session: AsyncSession, provider: Provider) -> list[str]:
    """Every user with an entitlement from the provider or a checkout started with it."""
    query = union(
        select(UserEntitlement.user_id).where(UserEntitlement.source_provider == provider.value),
        select(CheckoutSessionRecord.user_id).where(CheckoutSessionRecord.provider == provider.value),
    )
    return sorted((await session.execute(query)).scalars())


async def ledger_entries(session: AsyncSession, provider: Provider, user_id: str) -> list[LedgerEntry]:
    """The user's entitlements from the provider, each with the product an update must name."""
    rows = (
        await session.execute(
            select(UserEntitlement).where(
                UserEntitlement.user_id == user_id, UserEntitlement.source_provider == provider.value
            )
        )
    ).scalars()
    entries: list[LedgerEntry] = []
    for row in rows:
        bundle_or_pack, reference = await purchased_pack(session, row)
        products = await provider_products(session, provider.value, bundle_or_pack or row.catalog_id)
        # RevenueCat's reference is its product id; otherwise the pack's first product
        product = reference if reference in products else (products[0] if products else "")
        entries.append(
            LedgerEntry(
                key=LedgerKey(row.user_id, row.catalog_id, row.purchase_reference),
                status=EntitlementStatus(row.status),
                expires_at=row.expires_at,
                last_event_at=row.last_event_at,
                updated_at=row.updated_at,
                provider_product_id=product,
                provider_reference=reference,
            )
        )
    return entries


async def landings(
    session: AsyncSession, provider: Provider, user_id: str, purchases: Iterable[tuple[str, str]]
) -> Landings:
    """For each (product, reference) the provider reports, the user's entitlements it reaches.

    A bundle reaches its children today and those an earlier composition granted (as the worker does).
    """
    found: dict[tuple[str, str], list[tuple[uuid.UUID, str]]] = {}
    for product, reference in purchases:
        pack = (
            await session.execute(
                select(BillingCatalog)
                .join(BillingCatalogProvider, BillingCatalogProvider.catalog_id == BillingCatalog.id)
                .where(
                    BillingCatalogProvider.provider == provider.value,
                    BillingCatalogProvider.provider_product_id == product,
                )
            )
        ).scalar_one_or_none()
        if pack is None:
            continue
        leaves = await bundle_leaves(session, pack.id)
        if not leaves:
            found[(product, reference)] = [(pack.id, reference)]
            continue
        ledger_reference = bundle_purchase_reference(pack.slug, reference)
        granted = (
            await session.execute(
                select(UserEntitlement.catalog_id).where(
                    UserEntitlement.user_id == user_id,
                    UserEntitlement.source_provider == provider.value,
                    UserEntitlement.purchase_reference == ledger_reference,
                )
            )
        ).scalars()
        children = dict.fromkeys([*(leaf.id for leaf in leaves), *granted])
        found[(product, reference)] = [(child, ledger_reference) for child in children]
    return found
