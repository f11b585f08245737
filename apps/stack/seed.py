"""What test sessions and bench runs seed: packs written through the catalog writer (without change
events: catalog_sync's schedule picks them up) and a full-scope API key."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.catalog.model import ListingSpec, PackSpec
from shared.db.catalog_write import write_wanted_packs
from shared.db.unit_of_work import unit_of_work
from shared.domain.packs import MicroSaasPack, ProviderProduct
from shared.security.api_keys import ALL_SCOPES, create_api_key


def pack_spec(pack: MicroSaasPack, provider_products: list[ProviderProduct]) -> PackSpec:
    """The seed's pack and its provider products as the catalog writer takes them.

    Its billing period is set after validation: tests seed periods such as ``PT2S`` (an expiry within
    the test) that a catalog file may not hold (D, W, M or Y only), and the domain's arithmetic takes.
    """
    spec = PackSpec(
        slug=pack.slug,
        display_name=pack.display_name,
        description=pack.description,
        features=pack.features,
        feature_flags=pack.feature_flags,
        price=pack.default_price,
        currency=pack.currency,
        billing_kind=pack.billing_kind,
        providers={
            product.provider: ListingSpec(
                product_id=product.provider_product_id, price=product.price, currency=product.currency
            )
            for product in provider_products
        },
        active=pack.is_active,
    )
    return spec.model_copy(update={"billing_period": pack.billing_period})


async def upsert_pack(
    session: AsyncSession, pack: MicroSaasPack, provider_products: list[ProviderProduct]
) -> None:
    """Insert or update a pack (by slug; a new one keeps ``pack.id``) and its provider listings."""
    await write_wanted_packs(
        session,
        {pack.slug: pack_spec(pack, provider_products)},
        changes_topic=None,
        new_pack_ids={pack.slug: pack.id},
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
