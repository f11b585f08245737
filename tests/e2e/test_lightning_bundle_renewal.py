"""A Lightning bundle subscription renewed before it lapses: its children are extended, not granted again."""

from datetime import datetime
from typing import Any

import httpx

from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, btc_bundle_catalog, unique_suffix
from tests.infra.lightning import BtcpaySandbox, btcpay_fixture  # noqa: F401
from tests.infra.waiting import eventually


async def _buy(stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str, slug: str) -> str:
    body = {"userId": user_id, "packSlug": slug, "provider": "lightning"}
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=body)
    assert response.status_code == 201, response.text
    await btcpay.pay(await btcpay.invoice_id_for(response.json()["id"]))
    reference: str = response.json()["purchaseReference"]
    return reference


async def _children(stack: Stack, http: httpx.AsyncClient, user_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    return response.json()["entitlements"]  # type: ignore[no-any-return]


def _months(moment: str) -> int:
    parsed = datetime.fromisoformat(moment)
    return parsed.year * 12 + parsed.month


async def test_renewing_a_lightning_bundle_extends_its_children_by_one_period(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    suffix = unique_suffix()
    await apply_catalog(stack, btc_bundle_catalog(suffix, monthly=True))
    first_reference = await _buy(stack, http, btcpay, user_id, f"studio-{suffix}")

    async def granted() -> list[dict[str, Any]] | None:
        found = await _children(stack, http, user_id)
        return found if len(found) == 2 and all(e["status"] == "active" for e in found) else None

    first = await eventually(granted, what="the bundle's two children active")
    first_expiry = {e["pack_slug"]: e["expires_at"] for e in first}

    renewal_reference = await _buy(stack, http, btcpay, user_id, f"studio-{suffix}")

    async def extended() -> list[dict[str, Any]] | None:
        found = await _children(stack, http, user_id)
        moved = all(e["expires_at"] != first_expiry.get(e["pack_slug"]) for e in found)
        return found if moved else None

    renewed = await eventually(extended, what="the children's expiry moved")
    assert renewal_reference == first_reference  # the renewal renews the bundle purchase
    assert len(renewed) == 2  # extended in place: no second grant per child
    assert {e["purchase_reference"] for e in renewed} == {f"bundle:studio-{suffix}:{first_reference}"}
    for child in renewed:
        assert child["status"] == "active"
        assert _months(child["expires_at"]) - _months(first_expiry[child["pack_slug"]]) == 1
