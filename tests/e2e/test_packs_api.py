"""``GET /v1/packs``: active packs with features, visuals, prices per provider and availability."""

from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, unique_suffix


def _catalog(suffix: str) -> str:
    return f"""
catalog: packs-{suffix}
packs:
  - slug: try-on-{suffix}
    display_name: Virtual Try-On
    description: See it on you.
    features: [try_on.3d, try_on.share]
    feature_flags: {{try_on.share: false}}
    price: 499
    billing_kind: subscription
    billing_period: P1M
    visuals: {{image_url: "https://cdn.example/try-on.png", color: "#7C3AED", icon: shirt}}
    providers:
      revenuecat: {{product_id: rc.tryon.{suffix}, price: 499, currency: USD}}
      lightning: {{product_id: ln.tryon.{suffix}, price: 499, currency: USD}}
  - slug: rc-only-{suffix}
    display_name: RevenueCat only
    features: [room.measure]
    price: 199
    providers:
      revenuecat: {{product_id: rc.only.{suffix}, price: 199, currency: USD}}
  - slug: not-in-de-{suffix}
    display_name: Gated in Germany on Lightning
    features: [room.lighting_preview]
    price: 149
    feature_flags: {{provider.lightning.market.DE: false}}
    providers:
      revenuecat: {{product_id: rc.gated.{suffix}, price: 149, currency: USD}}
      lightning: {{product_id: ln.gated.{suffix}, price: 149, currency: USD}}
  - slug: duo-{suffix}
    display_name: Duo
    bundle: [try-on-{suffix}, not-in-de-{suffix}]
    price: 599
    billing_kind: one_time
    providers:
      revenuecat: {{product_id: rc.duo.{suffix}, price: 599, currency: USD}}
"""


@pytest.fixture
async def suffix(stack: Stack) -> str:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    return suffix


async def _packs(
    stack: Stack, http: httpx.AsyncClient, suffix: str, **params: str
) -> dict[str, dict[str, Any]]:
    response = await http.get(f"{stack.gateway_url}/v1/packs", params=params)
    assert response.status_code == 200
    return {p["slug"]: p for p in response.json()["packs"] if p["slug"].endswith(suffix)}


async def test_pack_shows_features_visuals_prices_and_availability(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    pack = (await _packs(stack, http, suffix))[f"try-on-{suffix}"]
    assert pack["features"] == ["try_on.3d"]  # try_on.share is switched off by its flag
    assert pack["billing"] == {"kind": "subscription", "period": "P1M"}
    assert pack["default_price"] == {"amount": 499, "currency": "USD"}
    assert (pack["price"], pack["currency"]) == (499, "USD")  # the seed's MicroSaasPack.price
    assert pack["visuals"] == {
        "image_url": "https://cdn.example/try-on.png",
        "color": "#7C3AED",
        "icon": "shirt",
    }
    assert pack["providers"]["revenuecat"] == {
        "available": True,
        "product_id": f"rc.tryon.{suffix}",
        "price": {"amount": 499, "currency": "USD"},
    }
    assert pack["providers"]["lightning"]["available"] is True


async def test_pack_not_listed_at_a_provider_is_unavailable_there(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    providers = (await _packs(stack, http, suffix))[f"rc-only-{suffix}"]["providers"]
    assert providers["revenuecat"]["available"] is True
    assert providers["lightning"] == {"available": False, "product_id": None, "price": None}


async def test_filter_by_provider_keeps_packs_available_there(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    lightning = await _packs(stack, http, suffix, provider="lightning")
    assert set(lightning) == {f"try-on-{suffix}", f"not-in-de-{suffix}"}


async def test_market_gating_hides_a_pack_at_one_provider_in_one_market(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    in_germany = await _packs(stack, http, suffix, provider="lightning", market="DE")
    assert f"not-in-de-{suffix}" not in in_germany
    gated = (await _packs(stack, http, suffix, market="DE"))[f"not-in-de-{suffix}"]
    assert gated["providers"]["revenuecat"]["available"] is True
    assert gated["providers"]["lightning"]["available"] is False


async def test_bundle_shows_its_price_and_its_childrens_together(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    duo = (await _packs(stack, http, suffix))[f"duo-{suffix}"]
    assert duo["default_price"] == {"amount": 599, "currency": "USD"}
    assert duo["bundle"] == {
        "children": [f"try-on-{suffix}", f"not-in-de-{suffix}"],
        "children_price": {"amount": 648, "currency": "USD"},
        "price_is_own": True,
    }
    assert duo["features"] == ["try_on.3d", "room.lighting_preview"]


async def test_unknown_provider_filter_is_a_400_naming_the_field(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"{stack.gateway_url}/v1/packs", params={"provider": "stripe"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "provider"


async def test_unchanged_list_answers_304_to_its_etag(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    first = await http.get(f"{stack.gateway_url}/v1/packs")
    assert first.headers["Cache-Control"].startswith("public")
    again = await http.get(f"{stack.gateway_url}/v1/packs", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]


async def test_changed_catalog_changes_the_etag(stack: Stack, http: httpx.AsyncClient, suffix: str) -> None:
    before = await http.get(f"{stack.gateway_url}/v1/packs")
    await apply_catalog(stack, _catalog(suffix).replace("display_name: Duo", "display_name: Duo Deluxe"))
    after = await http.get(f"{stack.gateway_url}/v1/packs", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]


async def test_single_pack_by_slug(stack: Stack, http: httpx.AsyncClient, suffix: str) -> None:
    response = await http.get(f"{stack.gateway_url}/v1/packs/rc-only-{suffix}")
    assert response.status_code == 200
    assert response.json()["slug"] == f"rc-only-{suffix}"
    assert "ETag" in response.headers


async def test_inactive_pack_leaves_the_list_but_stays_readable(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    text = _catalog(suffix)
    rc_only = text[text.index(f"  - slug: rc-only-{suffix}") : text.index(f"  - slug: not-in-de-{suffix}")]
    await apply_catalog(stack, text.replace(rc_only, ""))  # dropped from its catalog: deactivated
    assert f"rc-only-{suffix}" not in await _packs(stack, http, suffix)
    response = await http.get(f"{stack.gateway_url}/v1/packs/rc-only-{suffix}")
    assert response.json()["active"] is False


async def test_unknown_slug_is_404(stack: Stack, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{stack.gateway_url}/v1/packs/no-such-pack")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "pack_not_found"
