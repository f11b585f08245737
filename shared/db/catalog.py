"""Catalog look-ups the pipeline needs: which pack a provider product belongs to."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import BillingCatalog, BillingCatalogProvider
from shared.domain.packs import BillingKind, MicroSaasPack
from shared.domain.provider import Provider


class UnknownProductError(LookupError):
    """A provider product id that no pack maps to (fix the catalog, then replay the dead letter)."""


async def find_pack_for_product(
    session: AsyncSession, provider: Provider, provider_product_id: str
) -> BillingCatalog:
    stmt = (
        select(BillingCatalog)
        .join(BillingCatalogProvider, BillingCatalogProvider.catalog_id == BillingCatalog.id)
        .where(
            BillingCatalogProvider.provider == provider.value,
            BillingCatalogProvider.provider_product_id == provider_product_id,
        )
    )
    pack = (await session.execute(stmt)).scalar_one_or_none()
    if pack is None:
        raise UnknownProductError(f"no pack maps {provider.value} product {provider_product_id!r}")
    return pack


async def find_pack_by_slug(session: AsyncSession, slug: str) -> BillingCatalog | None:
    return (
        await session.execute(select(BillingCatalog).where(BillingCatalog.slug == slug))
    ).scalar_one_or_none()


async def find_pack_by_id_or_slug(session: AsyncSession, reference: str) -> BillingCatalog | None:
    """The pack a client names by its id or its slug (the seed's ``packId`` may be either)."""
    try:
        pack_id = uuid.UUID(reference)
    except ValueError:
        return await find_pack_by_slug(session, reference)
    found = await session.get(BillingCatalog, pack_id)
    return found if found is not None else await find_pack_by_slug(session, reference)


def pack_from_row(row: BillingCatalog) -> MicroSaasPack:
    return MicroSaasPack(
        id=row.id,
        slug=row.slug,
        display_name=row.display_name,
        description=row.description,
        features=list(row.features),
        feature_flags=dict(row.feature_flags),
        default_price=row.default_price,
        currency=row.currency,
        billing_kind=BillingKind(row.billing_kind),
        billing_period=row.billing_period,
        is_active=row.is_active,
    )


async def all_packs(session: AsyncSession) -> list[MicroSaasPack]:
    """Every pack of the catalog, sold or switched off (what catalog sync keeps the providers to)."""
    rows = (await session.execute(select(BillingCatalog).order_by(BillingCatalog.slug))).scalars()
    return [pack_from_row(row) for row in rows]
