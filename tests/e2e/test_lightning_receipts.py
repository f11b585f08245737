"""Lightning receipts end to end: a paid checkout's receipt from ``GET /v1/receipts/{ref}``, checked
offline by ``billing receipt verify``; the NWC proof rules (wrong preimage → nothing; none → only
confirmed by the provider); user tokens see only their own receipts; erasure covers them."""

import json
from pathlib import Path
from typing import Any

import httpx
from lnurl import url_decode

from shared.connectors.lightning.bolt11_invoices import decode_invoice
from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    NwcSandbox,
    btcpay_fixture,  # noqa: F401
    checkout,
    entitlement_event,
    invoice_in_status,
    lightning_pack,
    nwc_checkout,
    nwc_fixture,  # noqa: F401
)
from tests.infra.security import billing_cli, tables_containing
from tests.infra.waiting import eventually

ACTIVATED = "entitlement.activated"


async def _receipts(http: httpx.AsyncClient, stack: Stack, reference: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await http.get(f"{stack.gateway_url}/v1/receipts/{reference}")
        return answer.json() if answer.status_code == 200 else None

    return await eventually(probe, what=f"receipt of {reference}")


async def _paid_btcpay_purchase(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    pack, _ = await lightning_pack(stack.sessions, price=3_100_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    paid = await btcpay.pay(await btcpay.invoice_id_for(session["id"]))
    return session, paid


async def test_paid_checkout_has_a_receipt_that_verifies_offline(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str, tmp_path: Path
) -> None:
    session, paid = await _paid_btcpay_purchase(stack, http, btcpay, user_id)
    invoice = decode_invoice(session["lightningInvoice"])

    answer = await _receipts(http, stack, session["purchaseReference"])

    [receipt] = answer["receipts"]
    assert receipt["proof"] == "preimage" and receipt["preimage"] == paid["preimage"]
    assert (receipt["bolt11"], receipt["paymentHash"], receipt["amountMsat"]) == (
        invoice.bolt11,
        invoice.payment_hash,
        3_100_000,
    )
    assert receipt["nodePubkey"] == invoice.payee and receipt["settledAt"]
    file = tmp_path / "receipt.json"
    file.write_text(json.dumps(answer))
    verified = billing_cli(stack.settings, "receipt", "verify", str(file), "--node-key", invoice.payee or "")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK" in verified.stdout


async def test_lnurl_pay_receipt_holds_the_invoice_that_was_actually_paid(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str, tmp_path: Path
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_100_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    pay_request = (await http.get(url_decode(session["lnurl"]))).json()
    answer = (await http.get(pay_request["callback"], params={"amount": session["amountMsat"]})).json()
    lnurl_invoice = decode_invoice(answer["pr"])

    paid = await btcpay.pay(
        await btcpay.invoice_id_for(session["id"]), paymentHash=lnurl_invoice.payment_hash
    )

    [receipt] = (await _receipts(http, stack, session["purchaseReference"]))["receipts"]
    assert lnurl_invoice.bolt11 != decode_invoice(session["lightningInvoice"]).bolt11
    assert (receipt["bolt11"], receipt["paymentHash"], receipt["preimage"]) == (
        lnurl_invoice.bolt11,
        lnurl_invoice.payment_hash,
        paid["preimage"],
    )
    file = tmp_path / "receipt.json"
    file.write_text(json.dumps(receipt))
    assert billing_cli(stack.settings, "receipt", "verify", str(file)).returncode == 0


async def test_a_receipt_with_a_wrong_preimage_fails_verification(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str, tmp_path: Path
) -> None:
    session, _ = await _paid_btcpay_purchase(stack, http, btcpay, user_id)
    [receipt] = (await _receipts(http, stack, session["purchaseReference"]))["receipts"]
    file = tmp_path / "receipt.json"
    file.write_text(json.dumps(receipt | {"preimage": "00" * 32}))

    verified = billing_cli(stack.settings, "receipt", "verify", str(file))

    assert verified.returncode == 1 and "sha256(preimage) is not the payment hash" in verified.stdout


async def test_receipt_of_another_users_purchase_is_404_for_a_user_token(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    session, _ = await _paid_btcpay_purchase(stack, http, btcpay, user_id)
    reference = session["purchaseReference"]
    await _receipts(http, stack, reference)
    mine = (await http.post(f"{stack.gateway_url}/v1/users/{user_id}/tokens", json={})).json()["token"]
    other = (await http.post(f"{stack.gateway_url}/v1/users/{user_id}-other/tokens", json={})).json()["token"]

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        own = await client.get(f"/v1/receipts/{reference}", headers={"X-API-Key": mine})
        foreign = await client.get(f"/v1/receipts/{reference}", headers={"X-API-Key": other})

    assert own.status_code == 200 and own.json()["receipts"][0]["paymentHash"] == reference
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "receipt_not_found")


async def test_btcpay_key_without_node_access_gives_a_receipt_confirmed_by_provider(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    permission = f"{btcpay.base_url}/control/lightning-permission"
    assert (await http.post(permission, json={"canViewLightningInvoice": False})).status_code == 200
    try:
        session, _ = await _paid_btcpay_purchase(stack, http, btcpay, user_id)
        await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
        [receipt] = (await _receipts(http, stack, session["purchaseReference"]))["receipts"]
    finally:
        await http.post(permission, json={"canViewLightningInvoice": True})

    assert (receipt["proof"], receipt["preimage"]) == ("confirmed_by_provider", None)


async def test_nwc_settlement_with_a_wrong_preimage_grants_nothing_and_leaves_no_receipt(
    stack: Stack, http: httpx.AsyncClient, nwc: NwcSandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_000_000, currency="BTC")
    session = await nwc_checkout(stack, http, user_id, pack)

    await nwc.pay(session["hash"], preimage="55" * 32)

    row = await invoice_in_status(stack.sessions, session["id"], "invalid")
    assert row.provider_additional_status == "bad_preimage"
    await stack.published.caught_up()
    assert not stack.published.on(stack.topics.entitlements, lambda r: user_id.encode() in r.value)
    missing = await http.get(f"{stack.gateway_url}/v1/receipts/{session['hash']}")
    assert missing.status_code == 404


async def test_nwc_settlement_without_a_preimage_is_recorded_as_confirmed_by_provider(
    stack: Stack, http: httpx.AsyncClient, nwc: NwcSandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_000_000, currency="BTC")
    session = await nwc_checkout(stack, http, user_id, pack)

    await nwc.pay(session["hash"], preimage=None)

    await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
    [receipt] = (await _receipts(http, stack, session["hash"]))["receipts"]
    assert (receipt["proof"], receipt["preimage"]) == ("confirmed_by_provider", None)


async def test_nwc_settlement_with_its_preimage_gives_a_proven_receipt(
    stack: Stack, http: httpx.AsyncClient, nwc: NwcSandbox, user_id: str, tmp_path: Path
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_000_000, currency="BTC")
    session = await nwc_checkout(stack, http, user_id, pack)

    paid = await nwc.pay(session["hash"])

    [receipt] = (await _receipts(http, stack, session["hash"]))["receipts"]
    assert (receipt["proof"], receipt["preimage"]) == ("preimage", paid["preimage"])
    file = tmp_path / "receipt.json"
    file.write_text(json.dumps(receipt))
    assert billing_cli(stack.settings, "receipt", "verify", str(file)).returncode == 0


async def test_erasure_pseudonymises_the_users_receipts(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    session, _ = await _paid_btcpay_purchase(stack, http, btcpay, user_id)
    await _receipts(http, stack, session["purchaseReference"])
    exported = (await http.get(f"{stack.gateway_url}/v1/users/{user_id}/export")).json()
    assert "lightning_receipts" in exported["tables"]

    assert (await http.delete(f"{stack.gateway_url}/v1/users/{user_id}")).status_code == 200

    assert "lightning_receipts" not in await tables_containing(stack.sessions, user_id)
    kept = await http.get(f"{stack.gateway_url}/v1/receipts/{session['purchaseReference']}")
    assert kept.status_code == 200  # kept for accounting, under the pseudonym
