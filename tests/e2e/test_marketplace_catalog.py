"""Marketplace catalog and pack pages over real HTTP: what ``GET /v1/packs`` says, readable by a person."""

import httpx
import pytest

from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, unique_suffix
from tests.infra.marketplace import Page, availability, browser, mint_user_token, sign_in

pytestmark = [pytest.mark.postgres]


def _catalog(suffix: str) -> str:
    return f"""
catalog: market-{suffix}
packs:
  - slug: try-on-{suffix}
    display_name: Try-On {suffix}
    description: See it on you.
    features: [try_on.3d, try_on.share]
    price: 499
    billing_kind: subscription
    billing_period: P1M
    visuals: {{image_url: "https://cdn.example/try-on.png", color: "#7C3AED", icon: shirt}}
    providers:
      revenuecat: {{product_id: rc.mtryon.{suffix}, price: 499, currency: USD}}
      lightning: {{product_id: ln.mtryon.{suffix}, price: 499, currency: USD}}
  - slug: not-in-de-{suffix}
    display_name: Not on Lightning in Germany {suffix}
    features: [room.lighting_preview]
    price: 149
    feature_flags: {{provider.lightning.market.DE: false}}
    providers:
      revenuecat: {{product_id: rc.mgated.{suffix}, price: 149, currency: USD}}
      lightning: {{product_id: ln.mgated.{suffix}, price: 19900000, currency: BTC}}
  - slug: no-lightning-{suffix}
    display_name: Never on Lightning {suffix}
    features: [room.measure]
    price: 199
    feature_flags: {{provider.lightning: false}}
    providers:
      revenuecat: {{product_id: rc.mnoln.{suffix}, price: 199, currency: USD}}
      lightning: {{product_id: ln.mnoln.{suffix}, price: 199, currency: USD}}
  - slug: duo-{suffix}
    display_name: Duo {suffix}
    bundle: [try-on-{suffix}, not-in-de-{suffix}]
    price: 599
    billing_kind: one_time
    providers:
      revenuecat: {{product_id: rc.mduo.{suffix}, price: 599, currency: USD}}
"""


@pytest.fixture
async def suffix(stack: Stack) -> str:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    return suffix


@pytest.mark.parametrize("market", [None, "DE", "US"])
async def test_catalog_shows_exactly_the_availability_of_the_packs_api(
    stack: Stack, http: httpx.AsyncClient, suffix: str, market: str | None
) -> None:
    query = {"market": market} if market else {}
    api = (await http.get(f"{stack.gateway_url}/v1/packs", params=query)).json()["packs"]
    async with browser(stack) as client:
        page = await client.get("/market/", params=query)
    assert page.status_code == 200
    expected = {p["slug"]: {n: v["available"] for n, v in p["providers"].items()} for p in api}
    assert availability(Page(page.text)) == expected
    gated = availability(Page(page.text))[f"not-in-de-{suffix}"]["lightning"]
    assert gated is (market != "DE")
    assert availability(Page(page.text))[f"no-lightning-{suffix}"]["lightning"] is False


async def test_catalog_market_follows_the_browser_language(stack: Stack, suffix: str) -> None:
    async with browser(stack) as client:
        page = await client.get("/market/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert availability(Page(page.text))[f"not-in-de-{suffix}"]["lightning"] is False


async def test_catalog_card_shows_features_visuals_prices_in_fiat_and_sats(stack: Stack, suffix: str) -> None:
    async with browser(stack) as client:
        page = await client.get("/market/")
    card = page.text.split(f'data-slug="try-on-{suffix}"', 1)[1].split("</article>", 1)[0]
    assert f"Try-On {suffix}" in card and "See it on you." in card
    assert "<li>try_on.3d</li>" in card and "<li>try_on.share</li>" in card
    assert "#7C3AED" in card and "https://cdn.example/try-on.png" in card and "👕" in card
    assert "$4.99" in card and "per month" in card
    assert " sats" in card  # the USD price converted at the BTCPay sandbox's store rate
    gated = page.text.split(f'data-slug="not-in-de-{suffix}"', 1)[1].split("</article>", 1)[0]
    assert "19,900 sats" in gated  # a BTC price, in whole sats, with its fiat value beside it


async def test_bundle_card_names_its_children_and_the_saving(stack: Stack, suffix: str) -> None:
    async with browser(stack) as client:
        page = await client.get("/market/")
    card = page.text.split(f'data-slug="duo-{suffix}"', 1)[1].split("</article>", 1)[0]
    assert f"Try-On {suffix}" in card and f"Not on Lightning in Germany {suffix}" in card
    # RevenueCat: 599 for the bundle against 499 + 149 = 648 apart.
    assert "save $0.49 (8%) vs $6.48 apart" in card


async def test_pack_page_offers_the_buttons_sold_in_the_visitors_market(
    stack: Stack, http: httpx.AsyncClient, suffix: str, user_id: str
) -> None:
    async with browser(stack) as client:
        anonymous = Page((await client.get(f"/market/packs/not-in-de-{suffix}")).text)
        assert not [f for f in anonymous.forms if "provider" in f.fields]
        assert "Sign in to buy" in anonymous.html
        await sign_in(client, await mint_user_token(http, stack, user_id))
        everywhere = Page((await client.get(f"/market/packs/not-in-de-{suffix}")).text)
        germany = Page((await client.get(f"/market/packs/not-in-de-{suffix}", params={"market": "DE"})).text)
    assert sorted(f.fields["provider"] for f in everywhere.forms if "provider" in f.fields) == [
        "lightning",
        "revenuecat",
    ]
    assert [f.fields["provider"] for f in germany.forms if "provider" in f.fields] == ["revenuecat"]


async def test_an_inactive_or_unknown_pack_has_no_page(stack: Stack) -> None:
    async with browser(stack) as client:
        response = await client.get("/market/packs/no-such-pack")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
