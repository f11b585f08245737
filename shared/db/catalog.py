"""Catalog look-ups the pipeline needs: which pack a provider product belongs to."""

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import BillingCatalog, BillingCatalogProvider
from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
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


async def slugs_by_id(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(BillingCatalog.id, BillingCatalog.slug).where(BillingCatalog.id.in_(ids))
    )
    return {row.id: row.slug for row in rows}


async def upsert_pack(
    session: AsyncSession, pack: MicroSaasPack, provider_products: list[ProviderProduct]
) -> None:
    """Insert or update a pack (by slug) and its provider product mappings."""
    values = pack.model_dump(
        include={
            "id",
            "slug",
            "display_name",
            "description",
            "features",
            "feature_flags",
            "default_price",
            "currency",
            "billing_kind",
            "billing_period",
            "is_active",
        },
        mode="json",
    )
    new_pack = insert(BillingCatalog).values(**values)
    upsert = new_pack.on_conflict_do_update(
        index_elements=[BillingCatalog.slug],
        set_={k: new_pack.excluded[k] for k in values if k not in ("id", "slug")},
    ).returning(BillingCatalog.id)
    catalog_id = (await session.execute(upsert)).scalar_one()
    for product in provider_products:
        mapping = insert(BillingCatalogProvider).values(
            id=uuid.uuid4(),
            catalog_id=catalog_id,
            provider=product.provider.value,
            provider_product_id=product.provider_product_id,
            currency=product.currency,
            price=product.price,
            provider_ids={},
        )
        await session.execute(
            mapping.on_conflict_do_update(
                constraint="uq_billing_catalog_provider_provider",
                set_={
                    "catalog_id": mapping.excluded.catalog_id,
                    "currency": mapping.excluded.currency,
                    "price": mapping.excluded.price,
                },
            )
        )


async def find_pack_by_slug(session: AsyncSession, slug: str) -> BillingCatalog | None:
    return (
        await session.execute(select(BillingCatalog).where(BillingCatalog.slug == slug))
    ).scalar_one_or_none()


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
