"""``python -m tests.infra.toy_provider.seed DATABASE_URL SLUG PRODUCT_ID PACK_ID``: a pack sold at the
toy provider, written by the catalog writer in a process of its own (the only kind that knows ``toy``)."""

import asyncio
import sys
import uuid

from apps.stack.seed import upsert_pack
from shared.db.engine import create_engine, session_factory
from shared.db.unit_of_work import unit_of_work
from shared.domain.packs import MicroSaasPack, ProviderProduct
from tests.infra.toy_provider.mapping import TOY


async def seed_toy_pack(database_url: str, slug: str, product_id: str, pack_id: uuid.UUID) -> None:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            pack = MicroSaasPack(id=pack_id, slug=slug, display_name="Toy pack", default_price=100)
            listing = ProviderProduct(provider=TOY, provider_product_id=product_id, currency="USD", price=100)
            await upsert_pack(session, pack, [listing])
    finally:
        await engine.dispose()


if __name__ == "__main__":
    url, slug, product, pack_id = sys.argv[1:5]
    asyncio.run(seed_toy_pack(url, slug, product, uuid.UUID(pack_id)))
