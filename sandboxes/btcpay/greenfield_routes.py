"""Greenfield API routes (``/api/v1/…``), answering with BTCPay's shapes and ProblemDetails errors."""

import secrets
from typing import Any

from aiohttp import web

from sandboxes.btcpay import offerings, refunds
from sandboxes.btcpay.context import SANDBOX
from sandboxes.btcpay.state import SandboxError
from sandboxes.btcpay.webhook_delivery import Webhook

routes = web.RouteTableDef()
STORE = "/api/v1/stores/{storeId}"


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise SandboxError(400, "invalid-json", "request body is not JSON") from exc
    if not isinstance(body, dict):
        raise SandboxError(400, "invalid-json", "request body must be a JSON object")
    return body


# --- invoices -------------------------------------------------------------------------------
@routes.post(f"{STORE}/invoices")
async def create_invoice(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    invoice = sandbox.create_invoice(await _json(request))
    return web.json_response(invoice.as_json(sandbox.base_url))


@routes.get(f"{STORE}/invoices")
async def list_invoices(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    order_ids = set(request.query.getall("orderId", []))
    rows = [
        i.as_json(sandbox.base_url)
        for i in sandbox.store.invoices.values()
        if not order_ids or i.metadata.get("orderId") in order_ids
    ]
    return web.json_response(rows)


@routes.get(STORE + "/invoices/{invoiceId}")
async def get_invoice(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    invoice = sandbox.store.invoice(request.match_info["invoiceId"])
    sandbox.expire_if_due(invoice)
    return web.json_response(invoice.as_json(sandbox.base_url))


@routes.get(STORE + "/invoices/{invoiceId}/payment-methods")
async def get_payment_methods(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    invoice = sandbox.store.invoice(request.match_info["invoiceId"])
    sandbox.expire_if_due(invoice)
    return web.json_response(sandbox.payment_methods_json(invoice))


@routes.post(STORE + "/invoices/{invoiceId}/status")
async def mark_invoice_status(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    invoice = sandbox.store.invoice(request.match_info["invoiceId"])
    sandbox.mark(invoice, str((await _json(request)).get("status")))
    return web.json_response(invoice.as_json(sandbox.base_url))


@routes.post(STORE + "/invoices/{invoiceId}/refund")
async def refund_invoice(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    invoice = sandbox.store.invoice(request.match_info["invoiceId"])
    pull_payment = refunds.refund_invoice(sandbox, invoice, await _json(request))
    return web.json_response(pull_payment.as_json(sandbox.base_url))


# --- rates ----------------------------------------------------------------------------------
@routes.get(f"{STORE}/rates")
async def get_rates(request: web.Request) -> web.Response:
    store = request.app[SANDBOX].store
    pairs = request.query.getall("currencyPair", []) or list(store.rates)
    rows = [
        {"currencyPair": pair, "errors": [], "rate": str(store.rates[pair])}
        if pair in store.rates
        else {"currencyPair": pair, "errors": [f"no rate for {pair}"], "rate": None}
        for pair in pairs
    ]
    return web.json_response(rows)


# --- webhooks -------------------------------------------------------------------------------
@routes.get(f"{STORE}/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    sender = request.app[SANDBOX].sender
    return web.json_response([w.as_json() for w in sender.webhooks.values()])


@routes.post(f"{STORE}/webhooks")
async def create_webhook(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _json(request)
    if not body.get("url"):
        return web.json_response([{"path": "url", "message": "url is required"}], status=400)
    events = body.get("authorizedEvents") or {}
    webhook = Webhook(
        id=secrets.token_urlsafe(16),
        store_id=sandbox.store.id,
        url=body["url"],
        secret=body.get("secret") or secrets.token_urlsafe(24),
        enabled=body.get("enabled", True),
        automatic_redelivery=body.get("automaticRedelivery", True),
        everything=events.get("everything", True),
        specific_events=list(events.get("specificEvents") or []),
    )
    sandbox.sender.add(webhook)
    return web.json_response(webhook.as_json() | {"secret": webhook.secret})


def _webhook(request: web.Request) -> Webhook:
    webhook = request.app[SANDBOX].sender.webhooks.get(request.match_info["webhookId"])
    if webhook is None:
        raise SandboxError(404, "webhook-not-found", "The webhook could not be found")
    return webhook


@routes.get(STORE + "/webhooks/{webhookId}")
async def get_webhook(request: web.Request) -> web.Response:
    return web.json_response(_webhook(request).as_json())


@routes.put(STORE + "/webhooks/{webhookId}")
async def update_webhook(request: web.Request) -> web.Response:
    webhook = _webhook(request)
    body = await _json(request)
    webhook.url = body.get("url", webhook.url)
    webhook.enabled = body.get("enabled", webhook.enabled)
    webhook.automatic_redelivery = body.get("automaticRedelivery", webhook.automatic_redelivery)
    if body.get("secret"):
        webhook.secret = body["secret"]
    if "authorizedEvents" in body:
        webhook.everything = body["authorizedEvents"].get("everything", True)
        webhook.specific_events = list(body["authorizedEvents"].get("specificEvents") or [])
    return web.json_response(webhook.as_json())


@routes.delete(STORE + "/webhooks/{webhookId}")
async def delete_webhook(request: web.Request) -> web.Response:
    request.app[SANDBOX].sender.remove(_webhook(request).id)
    return web.json_response({})


@routes.get(STORE + "/webhooks/{webhookId}/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    webhook = _webhook(request)
    count = int(request.query.get("count", "50"))
    deliveries = [d for d in request.app[SANDBOX].sender.deliveries.values() if d.webhook_id == webhook.id]
    newest_first = sorted(deliveries, key=lambda d: d.timestamp, reverse=True)[:count]
    return web.json_response([d.as_json() for d in newest_first])


def _delivery(request: web.Request) -> Any:
    webhook = _webhook(request)
    delivery = request.app[SANDBOX].sender.deliveries.get(request.match_info["deliveryId"])
    if delivery is None or delivery.webhook_id != webhook.id:
        raise SandboxError(404, "delivery-not-found", "The delivery could not be found")
    return delivery


@routes.get(STORE + "/webhooks/{webhookId}/deliveries/{deliveryId}")
async def get_delivery(request: web.Request) -> web.Response:
    return web.json_response(_delivery(request).as_json())


@routes.get(STORE + "/webhooks/{webhookId}/deliveries/{deliveryId}/request")
async def get_delivery_request(request: web.Request) -> web.Response:
    return web.json_response(_delivery(request).event)


@routes.post(STORE + "/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver")
async def redeliver(request: web.Request) -> web.Response:
    delivery = _delivery(request)
    return web.json_response(request.app[SANDBOX].sender.redeliver(delivery.id))


# --- pull payments and payouts ----------------------------------------------------------------
def _pull_payment(request: web.Request) -> Any:
    pull_payment = request.app[SANDBOX].store.pull_payments.get(request.match_info["pullPaymentId"])
    if pull_payment is None:
        raise SandboxError(404, "pullpayment-not-found", "The pull payment could not be found")
    return pull_payment


def _payout(request: web.Request) -> Any:
    payout = request.app[SANDBOX].store.payouts.get(request.match_info["payoutId"])
    if payout is None:
        raise SandboxError(404, "payout-not-found", "The payout could not be found")
    return payout


@routes.get(f"{STORE}/pull-payments")
async def list_store_pull_payments(request: web.Request) -> web.Response:
    """Greenfield ``GET /stores/{storeId}/pull-payments``: archived ones only with ``includeArchived``."""
    sandbox = request.app[SANDBOX]
    include_archived = request.query.get("includeArchived", "false").lower() == "true"
    rows = [p for p in sandbox.store.pull_payments.values() if include_archived or not p.archived]
    return web.json_response([p.as_json(sandbox.base_url) for p in rows])


@routes.get("/api/v1/pull-payments/{pullPaymentId}")
async def get_pull_payment(request: web.Request) -> web.Response:
    return web.json_response(_pull_payment(request).as_json(request.app[SANDBOX].base_url))


@routes.get("/api/v1/pull-payments/{pullPaymentId}/payouts")
async def list_pull_payment_payouts(request: web.Request) -> web.Response:
    pull_payment = _pull_payment(request)
    payouts = request.app[SANDBOX].store.payouts.values()
    return web.json_response([p.as_json() for p in payouts if p.pull_payment_id == pull_payment.id])


@routes.post("/api/v1/pull-payments/{pullPaymentId}/payouts")
async def create_payout(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    payout = refunds.create_payout(sandbox, _pull_payment(request), await _json(request))
    return web.json_response(payout.as_json())


@routes.get("/api/v1/pull-payments/{pullPaymentId}/payouts/{payoutId}")
async def get_pull_payment_payout(request: web.Request) -> web.Response:
    payout = _payout(request)
    if payout.pull_payment_id != request.match_info["pullPaymentId"]:
        raise SandboxError(404, "payout-not-found", "The payout could not be found")
    return web.json_response(payout.as_json())


@routes.get(STORE + "/payouts/{payoutId}")
async def get_store_payout(request: web.Request) -> web.Response:
    return web.json_response(_payout(request).as_json())


@routes.post(STORE + "/payouts/{payoutId}")
async def approve_payout(request: web.Request) -> web.Response:
    payout = _payout(request)
    refunds.set_payout_state(request.app[SANDBOX], payout, "AwaitingPayment")
    return web.json_response(payout.as_json())


@routes.post(STORE + "/payouts/{payoutId}/mark-paid")
async def mark_payout_paid(request: web.Request) -> web.Response:
    refunds.set_payout_state(request.app[SANDBOX], _payout(request), "Completed")
    return web.json_response({})


@routes.post(STORE + "/payouts/{payoutId}/mark")
async def mark_payout(request: web.Request) -> web.Response:
    refunds.set_payout_state(request.app[SANDBOX], _payout(request), str((await _json(request)).get("state")))
    return web.json_response({})


@routes.delete(STORE + "/payouts/{payoutId}")
async def cancel_payout(request: web.Request) -> web.Response:
    refunds.set_payout_state(request.app[SANDBOX], _payout(request), "Cancelled")
    return web.json_response({})


# --- offerings and plans (Subscriptions, 2.x) -------------------------------------------------
@routes.get(f"{STORE}/offerings")
async def list_offerings(request: web.Request) -> web.Response:
    return web.json_response(list(request.app[SANDBOX].store.offerings.values()))


@routes.post(f"{STORE}/offerings")
async def create_offering(request: web.Request) -> web.Response:
    offering = offerings.create_offering(request.app[SANDBOX].store, await _json(request))
    return web.json_response(offering, status=201)


@routes.get(STORE + "/offerings/{offeringId}")
async def get_offering(request: web.Request) -> web.Response:
    return web.json_response(
        offerings.get_offering(request.app[SANDBOX].store, request.match_info["offeringId"])
    )


@routes.put(STORE + "/offerings/{offeringId}")
async def update_offering(request: web.Request) -> web.Response:
    store = request.app[SANDBOX].store
    offering = offerings.update_offering(store, request.match_info["offeringId"], await _json(request))
    return web.json_response(offering)


@routes.post(STORE + "/offerings/{offeringId}/plans")
async def create_plan(request: web.Request) -> web.Response:
    store = request.app[SANDBOX].store
    plan = offerings.create_plan(store, request.match_info["offeringId"], await _json(request))
    return web.json_response(plan, status=201)


@routes.get(STORE + "/offerings/{offeringId}/plans/{planId}")
async def get_plan(request: web.Request) -> web.Response:
    store = request.app[SANDBOX].store
    return web.json_response(
        offerings.get_plan(store, request.match_info["offeringId"], request.match_info["planId"])
    )


@routes.put(STORE + "/offerings/{offeringId}/plans/{planId}")
async def update_plan(request: web.Request) -> web.Response:
    store = request.app[SANDBOX].store
    info = request.match_info
    return web.json_response(
        offerings.update_plan(store, info["offeringId"], info["planId"], await _json(request))
    )
