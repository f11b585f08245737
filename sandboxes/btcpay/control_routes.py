"""Control API (``/control/…``): what a payer, a customer or the network would do to the store."""

from decimal import Decimal
from typing import Any

from aiohttp import web

from sandboxes.btcpay import refunds
from sandboxes.btcpay.context import SANDBOX
from sandboxes.btcpay.state import SandboxError

routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    return body if isinstance(body, dict) else {}


@routes.post("/control/invoices/{invoiceId}/pay")
async def pay_invoice(request: web.Request) -> web.Response:
    """Pay a BOLT11 of the invoice: ``{"paymentHash"?, "amountMsat"?, "late"?}``; reveals the preimage."""
    sandbox = request.app[SANDBOX]
    invoice = sandbox.store.invoice(request.match_info["invoiceId"])
    body = await _body(request)
    if body.get("late") and invoice.status == "New":
        sandbox.expire(invoice)
    amount = body.get("amountMsat")
    payment = sandbox.pay(
        invoice, payment_hash=body.get("paymentHash"), amount_msat=int(amount) if amount is not None else None
    )
    return web.json_response(
        {
            "invoiceId": invoice.id,
            "paymentHash": payment.id,
            "preimage": payment.preimage,
            "amountMsat": payment.amount_msat,
            "status": invoice.status,
            "additionalStatus": invoice.additional_status,
        }
    )


@routes.post("/control/lightning-permission")
async def lightning_permission(request: web.Request) -> web.Response:
    """``{"canViewLightningInvoice": false}``: the API key loses read access to the store's node."""
    store = request.app[SANDBOX].store
    store.can_view_lightning_invoices = bool((await _body(request)).get("canViewLightningInvoice", True))
    return web.json_response({"canViewLightningInvoice": store.can_view_lightning_invoices})


@routes.post("/control/invoices/{invoiceId}/expire")
async def expire_invoice(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    invoice = sandbox.store.invoice(request.match_info["invoiceId"])
    sandbox.expire(invoice)
    return web.json_response({"invoiceId": invoice.id, "status": invoice.status})


@routes.post("/control/pull-payments/{pullPaymentId}/claim")
async def claim_pull_payment(request: web.Request) -> web.Response:
    """The customer claims a refund: ``{"destination"?}`` creates a payout (``PayoutCreated``)."""
    sandbox = request.app[SANDBOX]
    pull_payment = sandbox.store.pull_payments.get(request.match_info["pullPaymentId"])
    if pull_payment is None:
        raise SandboxError(404, "pullpayment-not-found", "The pull payment could not be found")
    payout = refunds.create_payout(sandbox, pull_payment, await _body(request))
    return web.json_response(payout.as_json())


@routes.post("/control/payouts/{payoutId}/complete")
async def complete_payout(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    payout = sandbox.store.payouts.get(request.match_info["payoutId"])
    if payout is None:
        raise SandboxError(404, "payout-not-found", "The payout could not be found")
    refunds.complete_payout(sandbox, payout)
    return web.json_response(payout.as_json())


@routes.post("/control/invoices/{invoiceId}/refund/complete")
async def complete_refund(request: web.Request) -> web.Response:
    """Claim every pull payment of the invoice and complete its payouts, in one step."""
    sandbox = request.app[SANDBOX]
    invoice = sandbox.store.invoice(request.match_info["invoiceId"])
    pull_payments = [p for p in sandbox.store.pull_payments.values() if p.invoice_id == invoice.id]
    if not pull_payments:
        raise SandboxError(404, "pullpayment-not-found", "the invoice has no refund")
    completed = []
    for pull_payment in pull_payments:
        payouts = [p for p in sandbox.store.payouts.values() if p.pull_payment_id == pull_payment.id]
        payout = payouts[0] if payouts else refunds.create_payout(sandbox, pull_payment, {})
        if payout.state != "Completed":
            refunds.complete_payout(sandbox, payout)
        completed.append(payout.as_json())
    return web.json_response(completed)


@routes.post("/control/delivery")
async def break_delivery(request: web.Request) -> web.Response:
    """``{"failNext": N}`` fails the next N attempts (retries follow); ``{"drop": true}`` sends nothing."""
    faults = request.app[SANDBOX].sender.faults
    body = await _body(request)
    faults.fail_next = int(body.get("failNext", 0))
    faults.drop = bool(body.get("drop", False))
    return web.json_response({"failNext": faults.fail_next, "drop": faults.drop})


@routes.post("/control/rates")
async def set_rates(request: web.Request) -> web.Response:
    """``{"BTC_USD": "65000.00"}``: the store's rates from now on."""
    store = request.app[SANDBOX].store
    for pair, rate in (await _body(request)).items():
        store.rates[pair.upper()] = Decimal(str(rate))
    return web.json_response({pair: str(rate) for pair, rate in store.rates.items()})


@routes.get("/control/deliveries")
async def all_deliveries(request: web.Request) -> web.Response:
    """Every delivery with its body, oldest first (for tests and for eyes)."""
    sender = request.app[SANDBOX].sender
    rows = sorted(sender.deliveries.values(), key=lambda d: (d.timestamp, d.attempt))
    return web.json_response([d.as_json() | {"request": d.event} for d in rows])
