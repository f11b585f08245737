"""The hosted RevenueCat paywall behind checkout's fallback URL: it renders, and buying there activates."""

from typing import Any

import httpx
import pytest

from shared.domain.packs import BillingKind
from tests.conftest import Stack
from tests.infra.marketplace import Page, browser, mint_user_token, sign_in
from tests.infra.revenuecat import make_pack
from tests.infra.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


async def _fallback_url(stack: Stack, http: httpx.AsyncClient, user_id: str, slug: str) -> str:
    response = await http.post(
        f"{stack.gateway_url}/v1/checkout",
        json={"userId": user_id, "packSlug": slug, "provider": "revenuecat"},
    )
    assert response.status_code == 201, response.text
    url: str = response.json()["fallbackUrl"]
    return url


async def _active_entitlement(http: httpx.AsyncClient, stack: Stack, user_id: str, slug: str) -> Any:
    async def probe() -> dict[str, Any] | None:
        body = (await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")).json()
        return next(
            (e for e in body["entitlements"] if e["pack_slug"] == slug and e["status"] == "active"), None
        )

    return await eventually(probe, what=f"active entitlement to {slug}")


async def _sandbox_customer(stack: Stack, http: httpx.AsyncClient, app_user_id: str) -> httpx.Response:
    return await http.get(f"{stack.sandbox_urls['revenuecat']}/control/customers/{app_user_id}")


async def test_checkout_fallback_url_opens_the_hosted_paywall(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, product_id = await make_pack(stack.sessions)
    url = await _fallback_url(stack, http, user_id, pack.slug)
    async with httpx.AsyncClient(timeout=30) as visitor:  # the link itself, no key, no cookie
        page = await visitor.get(url)

    assert page.status_code == 200, page.text
    assert pack.display_name in page.text and "$4.99" in page.text and "per week" in page.text
    form = Page(page.text).form_with(pack=pack.slug)
    assert form.action == "/paywall/purchase"
    assert form.fields["app_user_id"] == f"rc_{user_id}" and form.fields["click"]
    assert product_id in page.text


async def test_buying_on_the_paywall_activates_the_pack(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    url = await _fallback_url(stack, http, user_id, pack.slug)
    async with browser(stack) as client:
        form = Page((await client.get(url)).text).form_with(pack=pack.slug)
        done = await client.post(form.action, data=form.fields)

    assert done.status_code == 200, done.text
    assert 'data-purchase="sent"' in done.text
    entitlement = await _active_entitlement(http, stack, user_id, pack.slug)
    assert entitlement["source_provider"] == "revenuecat" and entitlement["expires_at"] is not None


async def test_a_double_submitted_paywall_form_buys_once(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, product_id = await make_pack(stack.sessions, kind=BillingKind.ONE_TIME)
    url = await _fallback_url(stack, http, user_id, pack.slug)
    async with browser(stack) as client:
        form = Page((await client.get(url)).text).form_with(pack=pack.slug)
        first = await client.post(form.action, data=form.fields)
        second = await client.post(form.action, data=form.fields)

    assert (first.status_code, second.status_code) == (200, 200)
    await _active_entitlement(http, stack, user_id, pack.slug)
    customer = (await _sandbox_customer(stack, http, f"rc_{user_id}")).json()
    assert len(customer["subscriber"]["non_subscriptions"][product_id]) == 1


async def test_a_forged_paywall_form_buys_nothing(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    url = await _fallback_url(stack, http, user_id, pack.slug)
    async with browser(stack) as client:
        form = Page((await client.get(url)).text).form_with(pack=pack.slug)
        victim = f"rc_{user_id}-other"
        forged = await client.post(form.action, data=form.fields | {"app_user_id": victim})

    assert forged.status_code == 400
    assert (await _sandbox_customer(stack, http, victim)).status_code == 404


async def test_a_paywall_link_naming_no_pack_on_sale_is_not_found(stack: Stack) -> None:
    async with browser(stack) as client:
        response = await client.get("/paywall", params={"pack": "no-such-pack", "app_user_id": "rc_u1"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_card_button_on_the_pack_page_leads_to_the_paywall(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    async with browser(stack) as client:
        await sign_in(client, await mint_user_token(http, stack, user_id))
        page = Page((await client.get(f"/market/packs/{pack.slug}")).text)
        started = await client.post(
            f"/market/packs/{pack.slug}/checkout", data=page.form_with(provider="revenuecat").fields
        )

    assert started.status_code == 303, started.text
    target = httpx.URL(started.headers["location"])
    assert str(target).startswith(stack.settings.revenuecat.hosted_paywall_url)
    assert (target.params["pack"], target.params["app_user_id"]) == (pack.slug, f"rc_{user_id}")
