"""The admin dashboard over real HTTP: the funnel counts what the marketplace pages produced, and only
an admin who signed in with an admin key sees it (the browser keeps a cookie, never the key)."""

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from shared.db.telemetry_models import TelemetryRollup
from shared.messaging.telemetry import TelemetryType, fact_id
from tests.conftest import Stack
from tests.infra.lightning import (  # noqa: F401
    BtcpaySandbox,
    btcpay_fixture,
    checkout,
    invoice_in_status,
    lightning_pack,
)
from tests.infra.marketplace import Page, browser, mint_user_token, sign_in
from tests.infra.telemetry import consumed_everything, funnel_counts, read_topic
from tests.infra.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


async def _press_lightning(client: httpx.AsyncClient, slug: str) -> str:
    """Open the pack's page and press "Pay with Lightning"; the checkout's id."""
    form = Page((await client.get(f"/market/packs/{slug}")).text).form_with(provider="lightning")
    started = await client.post(f"/market/packs/{slug}/checkout", data=form.fields)
    assert started.status_code == 303, started.text
    return str(started.headers["location"]).rsplit("/", 1)[1]


async def _status(client: httpx.AsyncClient, checkout_id: str, wanted: str) -> bool:
    return bool((await client.get(f"/market/checkout/{checkout_id}/status")).json()["status"] == wanted)


async def _admin_sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/market/admin/sign-in", data={"api_key": key})


async def test_the_funnel_counts_the_views_checkouts_payments_and_expiries_the_pages_produced(
    stack: Stack, http: httpx.AsyncClient, api_key: str, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=5_000_000, currency="BTC")
    async with browser(stack) as buyer:
        await sign_in(buyer, await mint_user_token(http, stack, user_id))
        for _ in range(3):
            assert (await buyer.get(f"/market/packs/{pack.slug}")).status_code == 200
        paid, expired, _abandoned = [await _press_lightning(buyer, pack.slug) for _ in range(3)]
        await btcpay.pay(await btcpay.invoice_id_for(paid))
        await btcpay.expire(await btcpay.invoice_id_for(expired))
        await eventually(lambda: _status(buyer, paid, "paid"), what="invoice paid")
        await eventually(lambda: _status(buyer, expired, "expired"), what="invoice expired")

    wanted = {"views": 6, "started": 3, "completed": 1, "expired": 1, "abandoned": 2}
    async with browser(stack) as admin:
        assert (await _admin_sign_in(admin, api_key)).status_code == 303

        async def funnel_shows_it() -> dict[str, int] | None:
            page = await admin.get("/market/admin/")
            assert page.status_code == 200, page.text
            counts = funnel_counts(page.text, pack.slug, "lightning")
            return counts if counts == wanted else None

        assert await eventually(funnel_shows_it, timeout_s=60, what="the funnel's counts") == wanted


async def test_the_dashboard_needs_an_admin_sign_in_not_a_user_session_or_token(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    token = await mint_user_token(http, stack, user_id)
    async with browser(stack) as client:
        assert (await client.get("/market/admin/")).headers["location"] == "/market/admin/sign-in"
        await sign_in(client, token)  # a marketplace user: no dashboard
        assert (await client.get("/market/admin/")).status_code == 303
        assert (await _admin_sign_in(client, token)).status_code == 401  # a user token is no admin key
        assert (await _admin_sign_in(client, "not-a-key")).status_code == 401
        assert (await client.get("/market/admin/")).status_code == 303


async def _expired_counted(stack: Stack, pack_slug: str) -> int:
    async with stack.sessions() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(TelemetryRollup.events), 0)).where(
                TelemetryRollup.metric == TelemetryType.INVOICE_EXPIRED.value,
                TelemetryRollup.pack == pack_slug,
            )
        )
    return int(total or 0)


async def test_an_invoice_that_expires_unseen_is_counted_once_also_when_its_page_is_seen_later(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=1_000_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    await btcpay.expire(await btcpay.invoice_id_for(session["id"]))
    await invoice_in_status(stack.sessions, session["id"], "expired")

    # Ingest recorded the expiry and announced it: nobody opened the invoice's page.
    assert await eventually(lambda: _expired_counted(stack, pack.slug), what="the expiry counted") == 1

    async with browser(stack) as buyer:
        await sign_in(buyer, await mint_user_token(http, stack, user_id))
        seen = await buyer.get(f"/market/checkout/{session['id']}/status")
        assert seen.json()["status"] == "expired"
    expiry = fact_id(TelemetryType.INVOICE_EXPIRED.value, session["id"])

    async def both_announcements() -> bool:
        records = await read_topic(stack.settings.kafka_bootstrap, stack.topics.telemetry)
        return len([r for r in records if orjson.loads(r.value or b"{}").get("id") == expiry]) == 2

    await eventually(both_announcements, what="the page's announcement of the same expiry")
    group, topic = stack.topics.group("telemetry"), stack.topics.telemetry
    await eventually(lambda: consumed_everything(stack.settings, group, topic), what="telemetry consumed")
    assert await _expired_counted(stack, pack.slug) == 1
