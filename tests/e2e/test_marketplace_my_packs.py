"""My packs and signing in: the user's entitlements and features, only ever for the signed-in user."""

import httpx
import pytest

from tests.conftest import Stack
from tests.infra.lightning import BtcpaySandbox, btcpay_fixture, lightning_pack  # noqa: F401
from tests.infra.marketplace import Page, browser, mint_user_token, sign_in
from tests.infra.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


async def test_my_packs_lists_the_bought_pack_and_its_features(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=5_000_000, currency="BTC")
    async with browser(stack) as client:
        await sign_in(client, await mint_user_token(http, stack, user_id))
        assert "You have no packs yet" in (await client.get("/market/me")).text
        form = Page((await client.get(f"/market/packs/{pack.slug}")).text).form_with(provider="lightning")
        started = await client.post(f"/market/packs/{pack.slug}/checkout", data=form.fields)
        await btcpay.pay(await btcpay.invoice_id_for(started.headers["location"].rsplit("/", 1)[1]))

        async def listed() -> Page | None:
            page = Page((await client.get("/market/me")).text)
            return page if page.all("li", data_pack=pack.slug, data_status="active") else None

        page = await eventually(listed, what="my packs listing the pack")
    assert pack.display_name in page.html and "no end date" in page.html
    assert page.all("li", data_feature="color.match")


async def test_my_packs_needs_a_valid_session(stack: Stack) -> None:
    async with browser(stack) as client:
        anonymous = await client.get("/market/me")
        client.cookies.set("hto_market_session", "eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.forged")
        forged = await client.get("/market/me")
    assert anonymous.status_code == forged.status_code == 303
    assert forged.headers["location"].startswith("/market/sign-in")


async def test_an_api_key_that_is_not_a_user_token_does_not_sign_in(
    stack: Stack, api_key: str, user_id: str
) -> None:
    async with browser(stack) as client:
        refused = await client.post("/market/sign-in", data={"token": api_key})
        typed = await client.post("/market/sign-in", data={"user_id": user_id})  # dev sign-in is off here
    assert (refused.status_code, typed.status_code) == (401, 401)
    assert "hto_market_session" not in client.cookies


async def test_the_session_cookie_is_http_only_and_same_site(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    async with browser(stack) as client:
        response = await client.post(
            "/market/sign-in", data={"token": await mint_user_token(http, stack, user_id)}
        )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_buying_while_signed_out_signs_in_and_returns_to_the_pack(stack: Stack) -> None:
    async with browser(stack) as client:
        response = await client.post("/market/packs/some-pack/checkout", data={"provider": "lightning"})
    assert response.status_code == 303
    target = httpx.URL(response.headers["location"])
    assert (target.path, target.params["next"]) == ("/market/sign-in", "/market/packs/some-pack")


async def test_marketplace_forms_take_form_bodies_only_and_within_the_size_limit(stack: Stack) -> None:
    async with browser(stack) as client:
        text = await client.post(
            "/market/sign-in", content=b"token=x", headers={"Content-Type": "text/plain"}
        )
        huge = await client.post(
            "/market/sign-in", data={"token": "x" * (stack.settings.max_request_body_bytes + 1)}
        )
    assert (text.status_code, huge.status_code) == (415, 413)
