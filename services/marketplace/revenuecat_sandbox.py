"""The RevenueCat sandbox's control API, over HTTP: how the hosted paywall completes a purchase locally.

Used only when ``marketplace_revenuecat_sandbox_url`` is set (``billing up``, the test stack). The
sandbox then changes the customer and sends the webhook, exactly as after a store purchase.
"""

import httpx

from shared.domain.errors import ProviderError


class RevenueCatSandboxClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")

    async def purchase(self, app_user_id: str, product_id: str, *, subscription: bool) -> str:
        """Buy ``product_id`` as ``app_user_id``; returns the id of the event the sandbox sends."""
        kind = "purchase" if subscription else "non-renewing-purchase"
        url = f"{self._base_url}/control/simulate/{kind}"
        try:
            response = await self._http.post(url, json={"app_user_id": app_user_id, "product_id": product_id})
        except httpx.TransportError as exc:
            raise ProviderError("revenuecat", f"sandbox unreachable: {exc}", retryable=True) from exc
        if response.status_code != 200:
            retryable = response.status_code >= 500 or response.status_code == 429
            raise ProviderError("revenuecat", f"sandbox answered {response.status_code}", retryable=retryable)
        return str(response.json()["event"]["id"])
