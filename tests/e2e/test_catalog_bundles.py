"""Bundles end to end: settlement grants each child, revocation takes back exactly those."""

import asyncio
from typing import Any

import httpx
import pytest

from shared.domain.entitlements import EntitlementStatus
from shared.domain.provider import Provider
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, btc_bundle_catalog, unique_suffix
from tests.infra.catalog_entitlements import apply_and_wait, entitlement_update
from tests.infra.lightning import BtcpaySandbox, btcpay_fixture  # noqa: F401
from tests.infra.revenuecat import RevenueCatSandbox

ACTIVE, REVOKED = EntitlementStatus.ACTIVE, EntitlementStatus.REVOKED


def _catalog(suffix: str) -> str:
    return f"""
catalog: bundles-{suffix}
packs:
  - slug: try-on-{suffix}
    display_name: Virtual Try-On
    features: [try_on.3d]
    price: 499
    providers:
      revenuecat: {{product_id: rc.tryon.{suffix}, price: 499, currency: USD}}
      lightning: {{product_id: ln.tryon.{suffix}, price: 499, currency: USD}}
  - slug: planner-{suffix}
    display_name: AR Room Planner
    features: [room.measure]
    price: 799
    providers:
      revenuecat: {{product_id: rc.planner.{suffix}, price: 799, currency: USD}}
      lightning: {{product_id: ln.planner.{suffix}, price: 799, currency: USD}}
  - slug: style-{suffix}
    display_name: Style Advisor
    features: [style.suggestions]
    price: 299
    providers:
      lightning: {{product_id: ln.style.{suffix}, price: 299, currency: USD}}
  - slug: duo-{suffix}
    display_name: Duo
    bundle: [try-on-{suffix}, planner-{suffix}]
    providers:
      revenuecat: {{product_id: rc.duo.{suffix}}}
      lightning: {{product_id: ln.duo.{suffix}}}
  - slug: trio-{suffix}
    display_name: Trio
    bundle: [duo-{suffix}, style-{suffix}]
    price: 1200
    providers:
      lightning: {{product_id: ln.trio.{suffix}, price: 1200, currency: USD}}
"""


@pytest.fixture
async def suffix(stack: Stack) -> str:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    return suffix


async def _entitlements(stack: Stack, http: httpx.AsyncClient, user_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    return response.json()["entitlements"]  # type: ignore[no-any-return]


def _by_pack(entitlements: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(e["pack_slug"], e["purchase_reference"], e["status"]) for e in entitlements}


@pytest.mark.parametrize("provider", [Provider.REVENUECAT, Provider.LIGHTNING])
async def test_bundle_settlement_grants_one_entitlement_per_child(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str, provider: Provider
) -> None:
    product = f"{'rc' if provider is Provider.REVENUECAT else 'ln'}.duo.{suffix}"
    await apply_and_wait(
        stack, entitlement_update(user_id, product, "pay-1", ACTIVE, provider=provider), events=2
    )
    reference = f"bundle:duo-{suffix}:pay-1"
    assert _by_pack(await _entitlements(stack, http, user_id)) == {
        (f"try-on-{suffix}", reference, "active"),
        (f"planner-{suffix}", reference, "active"),
    }


async def test_nested_bundle_grants_every_plain_pack_under_it(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    update = entitlement_update(user_id, f"ln.trio.{suffix}", "pay-3", ACTIVE, provider=Provider.LIGHTNING)
    await apply_and_wait(stack, update, events=3)
    packs = {e["pack_slug"] for e in await _entitlements(stack, http, user_id)}
    assert packs == {f"try-on-{suffix}", f"planner-{suffix}", f"style-{suffix}"}


async def test_revoking_a_bundle_revokes_exactly_its_children(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.tryon.{suffix}", "own-tryon", ACTIVE))
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.duo.{suffix}", "pay-duo", ACTIVE), events=2)

    await apply_and_wait(stack, entitlement_update(user_id, f"rc.duo.{suffix}", "pay-duo", REVOKED), events=2)

    reference = f"bundle:duo-{suffix}:pay-duo"
    assert _by_pack(await _entitlements(stack, http, user_id)) == {
        (f"try-on-{suffix}", "own-tryon", "active"),  # bought separately: untouched
        (f"try-on-{suffix}", reference, "revoked"),
        (f"planner-{suffix}", reference, "revoked"),
    }
    features = (await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")).json()["features"]
    assert features == ["try_on.3d"]


async def test_bundle_price_is_the_sum_of_its_children_at_each_provider(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    duo = (await http.get(f"{stack.gateway_url}/v1/packs/duo-{suffix}")).json()
    assert (duo["price"], duo["default_price"]) == (1298, {"amount": 1298, "currency": "USD"})
    assert duo["bundle"]["price_is_own"] is False
    assert duo["providers"]["lightning"]["price"] == {"amount": 1298, "currency": "USD"}


async def test_lightning_bundle_checkout_charges_the_aggregate_and_settles_into_children(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    suffix = unique_suffix()
    await apply_catalog(stack, btc_bundle_catalog(suffix))
    body = {"userId": user_id, "packSlug": f"studio-{suffix}", "provider": "lightning"}
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=body)
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["amountMsat"] == 21_000_000  # 12_000_000 + 9_000_000

    await btcpay.pay(await btcpay.invoice_id_for(session["id"]))

    entitlements = await _wait_for_entitlements(stack, http, user_id, 2)
    assert {e["pack_slug"] for e in entitlements} == {f"scan-{suffix}", f"light-{suffix}"}
    assert all(e["purchase_reference"].startswith(f"bundle:studio-{suffix}:") for e in entitlements)


async def test_revenuecat_bundle_checkout_charges_the_aggregate_and_purchase_settles_into_children(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    body = {"userId": user_id, "packSlug": f"duo-{suffix}", "provider": "revenuecat"}
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["amountMinor"], response.json()["currency"]) == (1298, "USD")

    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=f"rc.duo.{suffix}")

    entitlements = await _wait_for_entitlements(stack, http, user_id, 2)
    assert {e["pack_slug"] for e in entitlements} == {f"try-on-{suffix}", f"planner-{suffix}"}


async def _wait_for_entitlements(
    stack: Stack, http: httpx.AsyncClient, user_id: str, count: int, timeout_s: float = 30
) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while len(found := await _entitlements(stack, http, user_id)) < count:
        if loop.time() > deadline:
            raise TimeoutError(f"{len(found)} of {count} entitlements within {timeout_s}s")
        await asyncio.sleep(0.1)
    return found
