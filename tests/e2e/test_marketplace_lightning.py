"""The Lightning invoice page: QR codes of the checkout's BOLT11 and LNURL, and a status that turns paid."""

from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    invoice_row,
    lightning_pack,
)
from tests.infra.marketplace import Page, browser, decode_qr_svg, mint_user_token, qr_svgs, sign_in
from tests.infra.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


async def _open_invoice(client: httpx.AsyncClient, slug: str) -> tuple[str, httpx.Response]:
    """Press "Pay with Lightning" on the pack page; returns the checkout id and the invoice page."""
    form = Page((await client.get(f"/market/packs/{slug}")).text).form_with(provider="lightning")
    started = await client.post(f"/market/packs/{slug}/checkout", data=form.fields)
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert location.startswith("/market/checkout/")
    return location.rsplit("/", 1)[1], await client.get(location)


async def _status_becomes(client: httpx.AsyncClient, checkout_id: str, wanted: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get(f"/market/checkout/{checkout_id}/status")).json()
        return body if body["status"] == wanted else None

    return await eventually(probe, what=f"invoice page status {wanted}")


async def test_invoice_page_shows_qr_codes_of_the_checkouts_bolt11_and_lnurl(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=19_900_000, currency="BTC")
    async with browser(stack) as client:
        await sign_in(client, await mint_user_token(http, stack, user_id))
        checkout_id, page = await _open_invoice(client, pack.slug)

    assert page.status_code == 200, page.text
    issued = await invoice_row(stack.sessions, checkout_id)
    svgs = qr_svgs(page.text)
    assert decode_qr_svg(svgs["qr-bolt11"]) == f"LIGHTNING:{issued.bolt11.upper()}"
    assert (decode_qr_svg(svgs["qr-lnurl"]) or "").startswith("LIGHTNING:LNURL1")
    assert issued.bolt11 in page.text and "19,900 sats" in page.text and "≈ $" in page.text
    assert Page(page.text).all("section", id="invoice")[0].attrs["data-status"] == "open"


async def test_invoice_page_of_a_fiat_pack_shows_sats_and_fiat(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=499, currency="USD")
    async with browser(stack) as client:
        await sign_in(client, await mint_user_token(http, stack, user_id))
        _, page = await _open_invoice(client, pack.slug)
    assert "$4.99" in page.text and " sats" in page.text


async def test_status_turns_paid_once_the_invoice_is_paid(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=5_000_000, currency="BTC")
    async with browser(stack) as client:
        await sign_in(client, await mint_user_token(http, stack, user_id))
        checkout_id, _ = await _open_invoice(client, pack.slug)
        assert (await client.get(f"/market/checkout/{checkout_id}/status")).json()["status"] == "open"

        await btcpay.pay(await btcpay.invoice_id_for(checkout_id))

        paid = await _status_becomes(client, checkout_id, "paid")
        page = await client.get(f"/market/checkout/{checkout_id}")
    assert paid["entitlements"] == [pack.slug]
    assert "Paid — pack active" in page.text


async def test_status_turns_expired_when_the_invoice_expires_unpaid(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=5_000_000, currency="BTC")
    async with browser(stack) as client:
        await sign_in(client, await mint_user_token(http, stack, user_id))
        checkout_id, _ = await _open_invoice(client, pack.slug)
        await btcpay.expire(await btcpay.invoice_id_for(checkout_id))
        expired = await _status_becomes(client, checkout_id, "expired")
    assert expired["entitlements"] == []


async def test_a_double_clicked_lightning_button_opens_one_invoice(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=5_000_000, currency="BTC")
    async with browser(stack) as client:
        await sign_in(client, await mint_user_token(http, stack, user_id))
        form = Page((await client.get(f"/market/packs/{pack.slug}")).text).form_with(provider="lightning")
        first = await client.post(f"/market/packs/{pack.slug}/checkout", data=form.fields)
        second = await client.post(f"/market/packs/{pack.slug}/checkout", data=form.fields)
        reloaded = Page((await client.get(f"/market/packs/{pack.slug}")).text).form_with(provider="lightning")
        third = await client.post(f"/market/packs/{pack.slug}/checkout", data=reloaded.fields)
    assert first.headers["location"] == second.headers["location"]
    assert third.headers["location"] != first.headers["location"]  # a new page is a new click


async def test_someone_elses_invoice_is_not_found(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=5_000_000, currency="BTC")
    async with browser(stack) as owner, browser(stack) as other:
        await sign_in(owner, await mint_user_token(http, stack, user_id))
        await sign_in(other, await mint_user_token(http, stack, f"{user_id}-other"))
        checkout_id, _ = await _open_invoice(owner, pack.slug)
        page = await other.get(f"/market/checkout/{checkout_id}")
        status = await other.get(f"/market/checkout/{checkout_id}/status")
    assert (page.status_code, status.status_code) == (404, 404)
