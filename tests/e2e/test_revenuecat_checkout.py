"""``POST /v1/checkout`` for RevenueCat: Web Purchase Links, the paywall fallback, Idempotency-Key."""

import asyncio
import uuid

import httpx
from sqlalchemy import func, select

from shared.db.models import CheckoutSessionRecord
from tests.conftest import Stack
from tests.infra.revenuecat import make_pack


def _checkout(user_id: str, slug: str) -> dict[str, str]:
    return {"userId": user_id, "packSlug": slug, "provider": "revenuecat"}


async def _sessions_of(stack: Stack, user_id: str) -> int:
    async with stack.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(CheckoutSessionRecord)
            .where(CheckoutSessionRecord.user_id == user_id)
        )
    return int(count or 0)


async def test_checkout_links_to_the_packs_web_purchase_link_for_rc_user(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pack, product_id = await make_pack(stack.sessions, provider_ids={"web_purchase_link_token": "wpl_tok3n"})
    suffix = uuid.uuid4().hex[:6]
    user_id = f"ana+maria@hto:{suffix}"
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=_checkout(user_id, pack.slug))

    assert response.status_code == 201, response.text
    session = response.json()
    base = stack.settings.revenuecat.web_purchase_base_url
    assert session["checkoutUrl"] == f"{base}/wpl_tok3n/rc_ana%2Bmaria%40hto%3A{suffix}"
    assert session["fallbackUrl"].startswith(stack.settings.revenuecat.hosted_paywall_url)
    assert (session["provider"], session["purchaseReference"], session["amountMinor"]) == (
        "revenuecat",
        product_id,
        pack.default_price,
    )
    assert await _sessions_of(stack, user_id) == 1


async def test_checkout_without_a_link_falls_back_to_the_hosted_paywall(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=_checkout(user_id, pack.slug))

    assert response.status_code == 201, response.text
    session = response.json()
    assert session["checkoutUrl"] == session["fallbackUrl"]
    assert httpx.URL(session["checkoutUrl"]).params["app_user_id"] == f"rc_{user_id}"
    assert httpx.URL(session["checkoutUrl"]).params["pack"] == pack.slug


async def test_same_idempotency_key_returns_the_same_session(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = await http.post(
        f"{stack.gateway_url}/v1/checkout", json=_checkout(user_id, pack.slug), headers=headers
    )
    second = await http.post(
        f"{stack.gateway_url}/v1/checkout", json=_checkout(user_id, pack.slug), headers=headers
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert await _sessions_of(stack, user_id) == 1


async def test_concurrent_requests_with_one_idempotency_key_create_one_session(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    answers = await asyncio.gather(
        *(
            http.post(f"{stack.gateway_url}/v1/checkout", json=_checkout(user_id, pack.slug), headers=headers)
            for _ in range(8)
        )
    )

    created = {a.json()["id"] for a in answers if a.status_code == 201}
    in_progress = [a for a in answers if a.status_code == 409]
    assert len(created) == 1
    assert all(a.json()["error"]["code"] == "idempotency_in_progress" for a in in_progress)
    assert len(in_progress) + sum(a.status_code == 201 for a in answers) == len(answers)
    assert await _sessions_of(stack, user_id) == 1


async def test_idempotency_key_reused_with_another_body_is_refused(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    other, _ = await make_pack(stack.sessions)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    await http.post(f"{stack.gateway_url}/v1/checkout", json=_checkout(user_id, pack.slug), headers=headers)
    reused = await http.post(
        f"{stack.gateway_url}/v1/checkout", json=_checkout(user_id, other.slug), headers=headers
    )

    assert reused.status_code == 409
    assert reused.json()["error"] == {
        "code": "idempotency_key_reused",
        "message": "Idempotency-Key was used with a different request body",
        "field": "Idempotency-Key",
    }
    assert await _sessions_of(stack, user_id) == 1
