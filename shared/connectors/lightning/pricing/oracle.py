"""Fiat → msat with a rate cached in Redis, and quotes locked for an invoice's lifetime.

A quote is written once and never re-priced: whoever reads it back (the LNURL callback, the
settlement check) sees the amount the payer was shown, even if the market moved since.
"""

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis

from shared.connectors.lightning.pricing.conversion import fiat_minor_to_msat
from shared.connectors.lightning.pricing.sources import BtcpayRateSource, CoingeckoRateSource, RateSource
from shared.settings import Settings


class PriceQuote(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    amount_minor: int
    currency: str
    btc_price: Decimal
    amount_msat: int
    created_at: datetime
    expires_at: datetime


class PriceOracle:
    def __init__(self, source: RateSource, redis: Redis, *, namespace: str, cache_ttl_s: int) -> None:
        self._source = source
        self._redis = redis
        self._prefix = f"{namespace}price-oracle"
        self._cache_ttl_s = cache_ttl_s

    async def btc_price(self, currency: str) -> Decimal:
        """Fiat per BTC, from Redis when a fresh value is there, else from the source."""
        key = f"{self._prefix}:rate:BTC_{currency.upper()}"
        cached = await self._redis.get(key)
        if cached is not None:
            return Decimal(cached.decode() if isinstance(cached, bytes) else cached)
        price = await self._source.btc_price(currency)
        await self._redis.set(key, str(price), ex=self._cache_ttl_s)
        return price

    async def lock_quote(self, amount_minor: int, currency: str, lifetime_s: int) -> PriceQuote:
        """Price ``amount_minor`` now and keep that price for ``lifetime_s`` seconds."""
        price = await self.btc_price(currency)
        now = datetime.now(UTC)
        quote = PriceQuote(
            id=secrets.token_hex(12),
            amount_minor=amount_minor,
            currency=currency.upper(),
            btc_price=price,
            amount_msat=fiat_minor_to_msat(amount_minor, currency, price),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime_s),
        )
        await self._redis.set(f"{self._prefix}:quote:{quote.id}", quote.model_dump_json(), ex=lifetime_s)
        return quote

    async def locked_quote(self, quote_id: str) -> PriceQuote | None:
        """The quote as it was locked, or None once its lifetime is over."""
        stored = await self._redis.get(f"{self._prefix}:quote:{quote_id}")
        return PriceQuote.model_validate_json(stored) if stored is not None else None


def price_oracle_from_settings(settings: Settings, http: httpx.AsyncClient, redis: Redis) -> PriceOracle:
    """The configured rate source behind a Redis-cached oracle."""
    source: RateSource
    if settings.price_oracle.source == "coingecko":
        source = CoingeckoRateSource(http, settings.price_oracle.url or "https://api.coingecko.com")
    else:
        source = BtcpayRateSource(
            http,
            settings.price_oracle.url or settings.btcpay.base_url,
            settings.btcpay.store_id,
            settings.btcpay.api_key.get_secret_value(),
        )
    return PriceOracle(
        source, redis, namespace=settings.namespace, cache_ttl_s=settings.price_oracle.cache_ttl_s
    )
