"""The price oracle on the real Redis: rates cached for their TTL, quotes locked for their lifetime."""

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from apps.stack.processes import start_infrastructure
from shared.connectors.lightning.pricing.oracle import PriceOracle

pytestmark = [pytest.mark.redis]


class MovingMarket:
    """A stand-in for the external rate source (not our infrastructure): a price we move by hand."""

    def __init__(self, price: str) -> None:
        self.price = Decimal(price)
        self.calls = 0

    async def btc_price(self, currency: str) -> Decimal:
        self.calls += 1
        return self.price


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    start_infrastructure()
    client = Redis.from_url("redis://127.0.0.1:56379/0")
    yield client
    await client.aclose()


async def test_rate_is_served_from_redis_until_its_ttl(redis: Redis) -> None:
    market = MovingMarket("65000")
    oracle = PriceOracle(market, redis, namespace=f"test-{uuid.uuid4().hex}.", cache_ttl_s=60)

    first = await oracle.btc_price("USD")
    market.price = Decimal("70000")
    second = await oracle.btc_price("USD")

    assert (first, second, market.calls) == (Decimal("65000"), Decimal("65000"), 1)


async def test_locked_quote_keeps_its_price_when_the_market_moves(redis: Redis) -> None:
    market = MovingMarket("65000")
    oracle = PriceOracle(market, redis, namespace=f"test-{uuid.uuid4().hex}.", cache_ttl_s=1)

    quote = await oracle.lock_quote(499, "USD", lifetime_s=900)
    market.price = Decimal("130000")
    locked = await oracle.locked_quote(quote.id)

    assert locked == quote
    assert locked is not None and locked.amount_msat == 7_676_924


async def test_quote_expires_with_the_invoice_lifetime(redis: Redis) -> None:
    namespace = f"test-{uuid.uuid4().hex}."
    oracle = PriceOracle(MovingMarket("65000"), redis, namespace=namespace, cache_ttl_s=1)

    quote = await oracle.lock_quote(499, "USD", lifetime_s=900)

    assert 890 <= await redis.ttl(f"{namespace}price-oracle:quote:{quote.id}") <= 900
