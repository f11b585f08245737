"""Writes one resolved pack's rows (pack, provider listings, bundle pricing and items, file membership),
only where they differ from what is stored; says what changed."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog.resolve import ResolvedPack
from shared.db.catalog_changes import ChangeKind, PackChange
from shared.db.catalog_models import BundleItem, BundlePricing, CatalogFileMembership
from shared.db.catalog_state import StoredPack
from shared.db.catalog_values import PackValues, resolved_values, stored_values
from shared.db.models import BillingCatalog, BillingCatalogProvider


async def write_pack(
    session: AsyncSession,
    stored: StoredPack | None,
    pack: ResolvedPack,
    catalog_name: str | None,
    new_id: uuid.UUID,
) -> PackChange | None:
    """Make the stored ``pack`` what is wanted (created with ``new_id``); None when it already was."""
    want = resolved_values(pack)
    if stored is None:
        pack_id = new_id
        session.add(BillingCatalog(id=pack_id, slug=pack.slug, **want.columns))
        await session.flush()
        await _write_listings(session, pack_id, want, None)
        await _write_bundle(session, pack_id, want, None)
        await _write_membership(session, pack_id, catalog_name, None)
        return PackChange(pack.slug, ChangeKind.CREATED, sorted(want.columns))
    have = stored_values(stored)
    fields = want.differences(have)
    await _write_membership(session, stored.id, catalog_name, stored.catalog_name)
    if not fields:
        return None
    changed_columns = {name: want.columns[name] for name in fields if name in want.columns}
    await session.execute(
        update(BillingCatalog)
        .where(BillingCatalog.id == stored.id)
        .values(**changed_columns, updated_at=datetime.now(UTC))
    )
    await _write_listings(session, stored.id, want, have)
    await _write_bundle(session, stored.id, want, have)
    was_active, is_active = have.columns["is_active"], want.columns["is_active"]
    kind = ChangeKind.UPDATED
    if was_active and not is_active:
        kind = ChangeKind.DEACTIVATED
    elif is_active and not was_active:
        kind = ChangeKind.REACTIVATED
    return PackChange(pack.slug, kind, fields)


async def _write_listings(
    session: AsyncSession, pack_id: uuid.UUID, want: PackValues, have: PackValues | None
) -> None:
    for provider, listing in want.listings.items():
        if have is not None and have.listings.get(provider) == listing:
            continue
        if have is not None and provider in have.listings:
            await session.execute(
                update(BillingCatalogProvider)
                .where(
                    BillingCatalogProvider.catalog_id == pack_id,
                    BillingCatalogProvider.provider == provider,
                    BillingCatalogProvider.provider_product_id == listing["product_id"],
                )
                .values(price=listing["price"], currency=listing["currency"])
            )
            continue
        session.add(
            BillingCatalogProvider(
                id=uuid.uuid4(),
                catalog_id=pack_id,
                provider=provider,
                provider_product_id=listing["product_id"],
                price=listing["price"],
                currency=listing["currency"],
                provider_ids={},
            )
        )


async def _write_bundle(
    session: AsyncSession, pack_id: uuid.UUID, want: PackValues, have: PackValues | None
) -> None:
    if want.bundle is None or (have is not None and have.bundle == want.bundle):
        return
    pricing = insert(BundlePricing).values(
        catalog_id=pack_id,
        own_price=want.bundle["own_price"],
        own_provider_prices=want.bundle["own_provider_prices"],
    )
    await session.execute(
        pricing.on_conflict_do_update(
            index_elements=[BundlePricing.catalog_id],
            set_={
                "own_price": pricing.excluded.own_price,
                "own_provider_prices": pricing.excluded.own_provider_prices,
            },
        )
    )
    if have is not None and have.bundle is not None and have.bundle["children"] == want.bundle["children"]:
        return
    await session.execute(delete(BundleItem).where(BundleItem.bundle_id == pack_id))
    for position, child in enumerate(want.bundle["children"]):
        child_id = await _pack_id_by_slug(session, child)
        session.add(BundleItem(bundle_id=pack_id, child_id=child_id, position=position))
    await session.flush()


async def _pack_id_by_slug(session: AsyncSession, slug: str) -> uuid.UUID:
    await session.flush()  # children created in this transaction must be visible
    return (await session.execute(select(BillingCatalog.id).where(BillingCatalog.slug == slug))).scalar_one()


async def _write_membership(
    session: AsyncSession, pack_id: uuid.UUID, catalog_name: str | None, current: str | None
) -> None:
    if catalog_name is None or catalog_name == current:
        return
    membership = insert(CatalogFileMembership).values(catalog_id=pack_id, catalog_name=catalog_name)
    await session.execute(
        membership.on_conflict_do_update(
            index_elements=[CatalogFileMembership.catalog_id],
            set_={"catalog_name": membership.excluded.catalog_name},
        )
    )
