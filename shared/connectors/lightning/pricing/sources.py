"""Where BTC prices come from: the BTCPay store's rate endpoint (and its sandbox) or CoinGecko."""

import json
from decimal import Decimal, InvalidOperation
from typing import Protocol

import httpx

from shared.domain.errors import ProviderError
from shared.observability.provider_calls import provider_call


class RateSource(Protocol):
    async def btc_price(self, currency: str) -> Decimal:
        """Units of ``currency`` for one bitcoin."""


async def _get_rates(
    http: httpx.AsyncClient, url: str, params: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """A rate source's 200 answer; its outage is a retryable ``ProviderError``, a 4xx a final one."""
    try:
        with provider_call("price_oracle", "GET") as call:
            response = await http.get(url, params=params, headers=headers)
            call.answered(response.status_code)
    except httpx.TransportError as exc:
        raise ProviderError("price-oracle", f"rate source unreachable: {exc}", retryable=True) from exc
    if response.status_code != 200:
        raise ProviderError(
            "price-oracle",
            f"rate source answered {response.status_code}",
            retryable=response.status_code >= 500,
        )
    return response


class BtcpayRateSource:
    """``GET /api/v1/stores/{storeId}/rates?currencyPair=BTC_XXX`` (Greenfield store rates)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, store_id: str, api_key: str) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/api/v1/stores/{store_id}/rates"
        self._headers = {"Authorization": f"token {api_key}"}

    async def btc_price(self, currency: str) -> Decimal:
        pair = f"BTC_{currency.upper()}"
        response = await _get_rates(self._http, self._url, {"currencyPair": pair}, self._headers)
        for row in json.loads(response.content, parse_float=Decimal):
            if row.get("currencyPair") == pair and not row.get("errors"):
                return _positive_decimal(row.get("rate"))
        raise ProviderError("price-oracle", f"no rate for {pair}", retryable=False)


class CoingeckoRateSource:
    """``GET /api/v3/simple/price?ids=bitcoin&vs_currencies=usd``; JSON numbers read as Decimal."""

    def __init__(self, http: httpx.AsyncClient, base_url: str = "https://api.coingecko.com") -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/api/v3/simple/price"

    async def btc_price(self, currency: str) -> Decimal:
        vs = currency.lower()
        response = await _get_rates(self._http, self._url, {"ids": "bitcoin", "vs_currencies": vs})
        return parse_coingecko_price(response.content, vs)


def parse_coingecko_price(body: bytes, vs_currency: str) -> Decimal:
    data = json.loads(body, parse_float=Decimal)
    return _positive_decimal(data.get("bitcoin", {}).get(vs_currency))


def _positive_decimal(value: object) -> Decimal:
    try:
        rate = Decimal(str(value))
    except InvalidOperation as exc:
        raise ProviderError("price-oracle", f"rate {value!r} is not a number", retryable=False) from exc
    if not rate.is_finite() or rate <= 0:
        raise ProviderError("price-oracle", f"rate {value!r} is not positive", retryable=False)
    return rate
