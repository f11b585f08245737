"""Gates over HTTP: ``GET /v1/packs`` hides a pack exactly where ``POST /v1/checkout`` refuses it (422
``pack_not_available``), and sells it where it is allowed; rollouts by user; the provider kill switch."""

import uuid
from typing import Any

import httpx
import pytest

from shared.catalog.rollout import admitted
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, unique_suffix
from tests.infra.revenuecat import RevenueCatSandbox, wait_until_applied

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]

GATES = {  # pack name → its flags
    "open": "{}",
    "rc-off": "{provider.revenuecat: false}",
    "no-de": "{market.DE: false}",
    "rc-no-de": "{provider.revenuecat.market.DE: false}",
    "half": "{rollout.revenuecat: 50}",
    "none-in-de": "{rollout.revenuecat.market.DE: 0}",
}


def _catalog(suffix: str) -> str:
    packs = "".join(
        f"""
  - slug: {name}-{suffix}
    display_name: Gate {name}
    features: [gate.{name.replace("-", "_")}]
    price: 199
    billing_kind: subscription
    billing_period: P1M
    feature_flags: {flags}
    providers:
      revenuecat: {{product_id: rc.gate.{name}.{suffix}, price: 199, currency: USD}}
      lightning: {{product_id: ln.gate.{name}.{suffix}, price: 199, currency: USD}}"""
        for name, flags in GATES.items()
    )
    return f"catalog: gates-{suffix}\npacks:{packs}\n"


@pytest.fixture
async def suffix(stack: Stack) -> str:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    return suffix


def _user(flag: str, percent: int, *, inside: bool) -> str:
    """A fresh user id the rollout ``flag`` at ``percent`` admits (``inside``) or leaves out."""
    while True:
        user = f"gate-{uuid.uuid4().hex[:12]}"
        if admitted(flag, percent, user) is inside:
            return user


async def _sold_at_revenuecat(stack: Stack, http: httpx.AsyncClient, slug: str, **params: str) -> bool:
    response = await http.get(f"{stack.gateway_url}/v1/packs", params=params)
    assert response.status_code == 200, response.text
    [pack] = [p for p in response.json()["packs"] if p["slug"] == slug]
    return bool(pack["providers"]["revenuecat"]["available"])


async def _checkout(
    stack: Stack, http: httpx.AsyncClient, user: str, slug: str, provider: str = "revenuecat", **extra: Any
) -> httpx.Response:
    headers = extra.pop("headers", {})
    body = {"userId": user, "packId": slug, "provider": provider, **extra}
    return await http.post(f"{stack.gateway_url}/v1/checkout", json=body, headers=headers)


def _refusal(response: httpx.Response) -> tuple[int, str, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["reason"], error["field"]


async def test_provider_flag_hides_and_refuses_at_that_provider_only(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    slug = f"rc-off-{suffix}"
    assert not await _sold_at_revenuecat(stack, http, slug)
    refused = await _checkout(stack, http, user_id, slug)
    assert _refusal(refused) == (422, "pack_not_available", "provider_off", "provider")
    assert refused.json()["error"]["flag"] == "provider.revenuecat"
    lightning = await http.get(f"{stack.gateway_url}/v1/packs", params={"provider": "lightning"})
    assert slug in [p["slug"] for p in lightning.json()["packs"]]


async def test_market_flag_refuses_in_that_market_and_sells_elsewhere(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    slug = f"no-de-{suffix}"
    assert not await _sold_at_revenuecat(stack, http, slug, market="DE")
    assert await _sold_at_revenuecat(stack, http, slug, market="FR")
    refused = await _checkout(stack, http, user_id, slug, market="DE")
    assert _refusal(refused) == (422, "pack_not_available", "market_off", "market")
    assert (await _checkout(stack, http, user_id, slug, market="FR")).status_code == 201


async def test_provider_market_flag_refuses_there_and_not_at_the_other_provider(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    slug = f"rc-no-de-{suffix}"
    assert not await _sold_at_revenuecat(stack, http, slug, market="DE")
    refused = await _checkout(stack, http, user_id, slug, market="DE")
    assert _refusal(refused) == (422, "pack_not_available", "market_off", "market")
    assert refused.json()["error"]["flag"] == "provider.revenuecat.market.DE"
    assert (await _checkout(stack, http, user_id, slug, market="US")).status_code == 201


async def test_market_header_counts_like_the_body_field(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    slug = f"no-de-{suffix}"
    refused = await _checkout(stack, http, user_id, slug, headers={"X-Market": "de"})
    assert _refusal(refused)[:3] == (422, "pack_not_available", "market_off")


async def test_market_that_is_no_iso_country_is_a_400(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    in_body = await _checkout(stack, http, user_id, f"open-{suffix}", market="XX")
    assert (in_body.status_code, in_body.json()["error"]["field"]) == (400, "market")
    in_header = await _checkout(stack, http, user_id, f"open-{suffix}", headers={"X-Market": "Germany"})
    assert (in_header.status_code, in_header.json()["error"]["field"]) == (400, "X-Market")
    listing = await http.get(f"{stack.gateway_url}/v1/packs", params={"market": "XX"})
    assert (listing.status_code, listing.json()["error"]["code"]) == (400, "invalid_market")


async def test_rollout_lists_and_sells_to_the_users_it_admits_on_every_call(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    slug = f"half-{suffix}"
    inside = _user("rollout.revenuecat", 50, inside=True)
    outside = _user("rollout.revenuecat", 50, inside=False)
    for _ in range(3):
        assert await _sold_at_revenuecat(stack, http, slug, user=inside, market="US")
        assert not await _sold_at_revenuecat(stack, http, slug, user=outside, market="US")
    assert (await _checkout(stack, http, inside, slug, market="US")).status_code == 201
    refused = await _checkout(stack, http, outside, slug, market="US")
    assert _refusal(refused) == (422, "pack_not_available", "not_in_rollout", "userId")


async def test_market_rollout_applies_in_its_market_only(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    slug = f"none-in-de-{suffix}"
    assert not await _sold_at_revenuecat(stack, http, slug, user=user_id, market="DE")
    assert await _sold_at_revenuecat(stack, http, slug, user=user_id, market="AT")
    refused = await _checkout(stack, http, user_id, slug, market="DE")
    assert _refusal(refused)[2] == "not_in_rollout"
    assert (await _checkout(stack, http, user_id, slug, market="AT")).status_code == 201


async def test_pack_without_gates_sells_with_the_seeds_checkout_fields(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    slug = f"open-{suffix}"
    assert await _sold_at_revenuecat(stack, http, slug, user=user_id, market="DE")
    seed_body = {"userId": user_id, "packId": slug, "provider": "revenuecat", "metadata": {"k": "v"}}
    assert (await http.post(f"{stack.gateway_url}/v1/checkout", json=seed_body)).status_code == 201


async def test_rollout_percentage_out_of_range_is_refused_by_the_admin_api(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    slug = f"bad-rollout-{unique_suffix()}"
    body = {"slug": slug, "display_name": "Bad", "price": 1, "feature_flags": {"rollout.lightning": 101}}
    response = await http.post(f"{stack.gateway_url}/v1/admin/packs", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_pack"
    assert "rollout.lightning" in response.json()["error"]["field"]


async def test_kill_switch_stops_checkouts_while_the_providers_webhooks_still_apply(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, suffix: str, user_id: str
) -> None:
    slug, product = f"open-{suffix}", f"rc.gate.open.{suffix}"
    assert (await _checkout(stack, http, user_id, slug)).status_code == 201  # bought before the switch
    switched = _catalog(suffix).replace("feature_flags: {}", "feature_flags: {provider.revenuecat: false}", 1)
    await apply_catalog(stack, switched)

    refused = await _checkout(stack, http, f"{user_id}-late", slug)
    assert _refusal(refused) == (422, "pack_not_available", "provider_off", "provider")
    event = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, event["id"], user_id)
    pack_id = (await http.get(f"{stack.gateway_url}/v1/packs/{slug}")).json()["id"]
    held = (await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")).json()["entitlements"]
    assert [(e["packId"], e["status"]) for e in held] == [(pack_id, "active")]
