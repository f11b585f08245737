"""The products we sell are read once a second at most, and at once when a delivery shows a new one."""

import asyncio

from shared.connectors.revenuecat.known_products import TTL_S, KnownProducts


class Catalog:
    def __init__(self, *products: str) -> None:
        self.products = set(products)
        self.reads = 0

    async def load(self) -> frozenset[str]:
        self.reads += 1
        return frozenset(self.products)


def test_a_known_product_is_answered_from_the_last_read_until_it_is_older_than_the_ttl() -> None:
    catalog, now = Catalog("sub.a", "sub.b"), [100.0]
    known = KnownProducts(catalog.load, clock=lambda: now[0])

    async def scenario() -> None:
        assert await known.including({"sub.a"}) == {"sub.a", "sub.b"}
        now[0] += TTL_S / 2
        await known.including({"sub.b"})
        assert catalog.reads == 1
        now[0] += TTL_S
        await known.including({"sub.a"})
        assert catalog.reads == 2

    asyncio.run(scenario())


def test_a_product_listed_a_moment_ago_is_read_at_once() -> None:
    catalog, now = Catalog("sub.a"), [100.0]
    known = KnownProducts(catalog.load, clock=lambda: now[0])

    async def scenario() -> None:
        await known.including({"sub.a"})
        catalog.products.add("sub.new")
        assert "sub.new" in await known.including({"sub.a", "sub.new"})
        assert catalog.reads == 2
        # A product we do not sell is not in the catalog however often it is read.
        assert "other.app" not in await known.including({"other.app"})

    asyncio.run(scenario())
