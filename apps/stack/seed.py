"""What test sessions and bench runs seed: packs written straight into the catalog tables (no change
events; production writes go through the catalog writer) and a full-scope API key."""

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.models import BillingCatalog, BillingCatalogProvider
from shared.db.unit_of_work import unit_of_work
from shared.domain.packs import MicroSaasPack, ProviderProduct
from shared.security.api_keys import ALL_SCOPES, create_api_key


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


UNLIMITED_PER_MINUTE = 1_000_000


async def create_full_scope_key(
    sessions: async_sessionmaker[AsyncSession], name: str = "test session"
) -> str:
    """A key with every scope and no practical rate limit; returns the key itself."""
    async with unit_of_work(sessions) as session:
        issued = await create_api_key(
            session,
            name=name,
            scopes=ALL_SCOPES,
            created_by="test:conftest",
            rate_limit_per_minute=UNLIMITED_PER_MINUTE,
        )
    return issued.key.reveal()
