"""Read and edit the provider sandboxes' catalogs through their own APIs, as someone at the provider would."""

from typing import Any

import httpx

from tests.conftest import Stack


class RevenueCatSandboxCatalog:
    def __init__(self, stack: Stack, http: httpx.AsyncClient) -> None:
        settings = stack.settings
        self._http = http
        self._url = stack.sandbox_urls["revenuecat"]
        self._project = f"{self._url}/v2/projects/{settings.revenuecat.project_id}"
        key = (
            settings.revenuecat.api_v2_key.get_secret_value()
            or settings.revenuecat.api_key.get_secret_value()
        )
        self._headers = {"Authorization": f"Bearer {key}"}

    async def _list(self, collection: str, expand: str | None = None) -> list[dict[str, Any]]:
        params = {"limit": "100", **({"expand": expand} if expand else {})}
        items: list[dict[str, Any]] = []
        url: str | None = f"{self._project}/{collection}"
        while url:
            page = (await self._http.get(url, params=params, headers=self._headers)).json()
            items += page["items"]
            url, params = (f"{self._url}{page['next_page']}", {}) if page.get("next_page") else (None, {})
        return items

    async def product(self, store_identifier: str) -> dict[str, Any] | None:
        return next(
            (p for p in await self._list("products") if p["store_identifier"] == store_identifier), None
        )

    async def entitlement(self, lookup_key: str) -> dict[str, Any] | None:
        entitlements = await self._list("entitlements", "items.product")
        return next((e for e in entitlements if e["lookup_key"] == lookup_key), None)

    async def offering(self, lookup_key: str) -> dict[str, Any] | None:
        offerings = await self._list("offerings", "items.package.product")
        return next((o for o in offerings if o["lookup_key"] == lookup_key), None)

    async def detach(self, entitlement_id: str, product_id: str) -> None:
        url = f"{self._project}/entitlements/{entitlement_id}/actions/detach_products"
        response = await self._http.post(url, json={"product_ids": [product_id]}, headers=self._headers)
        response.raise_for_status()

    async def fail_v2_calls(self, count: int) -> None:
        body = {"scope": "v2", "mode": "error", "status": 503, "count": count}
        (await self._http.post(f"{self._url}/control/faults", json=body)).raise_for_status()

    async def stop_failing(self) -> None:
        (
            await self._http.post(f"{self._url}/control/faults", json={"scope": "v2", "mode": "off"})
        ).raise_for_status()


class BtcpaySandboxCatalog:
    def __init__(self, stack: Stack, http: httpx.AsyncClient) -> None:
        settings = stack.settings
        self._http = http
        self._store = f"{stack.sandbox_urls['btcpay']}/api/v1/stores/{settings.btcpay.store_id}"
        self._headers = {"Authorization": f"token {settings.btcpay.api_key.get_secret_value()}"}

    async def plan(self, product_id: str) -> tuple[str, dict[str, Any]] | None:
        """(offering id, newest active plan) for our product id."""
        offerings = (await self._http.get(f"{self._store}/offerings", headers=self._headers)).json()
        for offering in offerings:
            plans = [p for p in offering["plans"] if (p.get("metadata") or {}).get("productId") == product_id]
            active = [p for p in plans if p.get("status") == "Active"]
            if active:
                return offering["id"], active[-1]
        return None

    async def edit_plan(self, offering_id: str, plan: dict[str, Any], **changes: Any) -> None:
        body = {k: v for k, v in plan.items() if k not in ("id", "status", "memberCount")} | changes
        url = f"{self._store}/offerings/{offering_id}/plans/{plan['id']}"
        (await self._http.put(url, json=body, headers=self._headers)).raise_for_status()
