"""A thin Greenfield client (httpx, ``Authorization: token …``): the calls the Lightning back end makes."""

from decimal import Decimal
from typing import Any

import httpx
from lnurl import url_decode

from shared.domain.errors import ProviderError
from shared.observability.provider_calls import provider_call

PROVIDER = "lightning-btcpay"


class BtcpayClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, store_id: str, api_key: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._store = f"{self._base}/api/v1/stores/{store_id}"
        self._headers = {"Authorization": f"token {api_key}", "Accept": "application/json"}

    async def create_invoice(
        self, *, amount_btc: Decimal, metadata: dict[str, Any], checkout: dict[str, Any]
    ) -> dict[str, Any]:
        body = {"amount": str(amount_btc), "currency": "BTC", "metadata": metadata, "checkout": checkout}
        return await self._call("POST", f"{self._store}/invoices", json=body)  # type: ignore[no-any-return]

    async def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        return await self._call("GET", f"{self._store}/invoices/{invoice_id}")  # type: ignore[no-any-return]

    async def get_payment_methods(self, invoice_id: str) -> list[dict[str, Any]]:
        return await self._call("GET", f"{self._store}/invoices/{invoice_id}/payment-methods")  # type: ignore[no-any-return]

    async def get_lightning_invoice(self, node_invoice_id: str) -> dict[str, Any]:
        """The store node's ``LightningInvoiceData`` (needs ``btcpay.store.canviewlightninginvoice``)."""
        url = f"{self._store}/lightning/BTC/invoices/{node_invoice_id}"
        return await self._call("GET", url)  # type: ignore[no-any-return]

    async def refund_invoice(self, invoice_id: str, *, reason: str) -> dict[str, Any]:
        """A pull payment of what was paid, at the rate then; both 2.x and 1.x method field names."""
        body = {
            "name": f"Refund {invoice_id}",
            "description": reason,
            "refundVariant": "RateThen",
            "payoutMethodId": "BTC-LN",
            "paymentMethod": "BTC-LN",
        }
        return await self._call("POST", f"{self._store}/invoices/{invoice_id}/refund", json=body)  # type: ignore[no-any-return]

    async def get_payout(self, pull_payment_id: str, payout_id: str) -> dict[str, Any]:
        url = f"{self._base}/api/v1/pull-payments/{pull_payment_id}/payouts/{payout_id}"
        return await self._call("GET", url)  # type: ignore[no-any-return]

    async def lnurl_pay_request(self, lnurl: str) -> dict[str, Any]:
        """BTCPay's own LUD-06 payRequest for an invoice (its ``BTC-LNURL`` destination)."""
        return await self._lnurl(url_decode(lnurl), None)

    async def lnurl_callback(self, callback: str, amount_msat: int) -> dict[str, Any]:
        """The payRequest's callback with ``amount``: answers ``{"pr": <bolt11>, "routes": []}``."""
        return await self._lnurl(callback, {"amount": str(amount_msat)})

    async def _lnurl(self, url: str, params: dict[str, str] | None) -> dict[str, Any]:
        answer = await self._call("GET", url, params=params, authenticated=False)
        if not isinstance(answer, dict) or answer.get("status") == "ERROR":
            reason = answer.get("reason") if isinstance(answer, dict) else "not a JSON object"
            raise ProviderError(PROVIDER, f"LNURL: {reason}", retryable=False)
        return answer

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        headers = self._headers if authenticated else {"Accept": "application/json"}
        try:
            with provider_call("btcpay", method) as call:
                response = await self._http.request(method, url, json=json, params=params, headers=headers)
                call.answered(response.status_code)
        except httpx.TransportError as exc:
            raise ProviderError(PROVIDER, f"{method} {url}: {exc}", retryable=True) from exc
        if response.status_code >= 400:
            retryable = response.status_code >= 500 or response.status_code == 429
            raise ProviderError(
                PROVIDER,
                f"{method} {url} answered {response.status_code}: {response.text[:300]}",
                retryable=retryable,
                status=response.status_code,
            )
        return response.json()
