"""The store's Lightning node API (``/api/v1/stores/{storeId}/lightning/{cryptoCode}/…``), the part
the billing service reads: one invoice of the node by id, as ``LightningInvoiceData``.

Shape from BTCPay's ``swagger.template.lightning.common.json`` (commit 715348b1): ``id``, ``status``
(Unpaid | Paid | Expired), ``BOLT11``, ``paidAt``, ``expiresAt``, ``amount`` and ``amountReceived``
(msat strings), ``paymentHash``, ``preimage`` (nullable, "available when status is complete"),
``customRecords``. The route needs ``btcpay.store.canviewlightninginvoice``
(``swagger.template.lightning.store.json``, commit ece2491e); a key without it gets 403. The sandbox
node's invoice id is its payment hash, as it is for LND behind BTCPay.
"""

from typing import Any

from aiohttp import web

from sandboxes.btcpay.context import SANDBOX
from sandboxes.btcpay.state import SandboxError, Store, now

routes = web.RouteTableDef()
NODE = "/api/v1/stores/{storeId}/lightning/{cryptoCode}"
NOT_FOUND = "The lightning node configuration or the specified invoice was not found"


@routes.get(NODE + "/invoices/{id}")
async def get_lightning_invoice(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    if request.match_info["cryptoCode"].upper() != "BTC":
        raise SandboxError(404, "node-not-found", NOT_FOUND)
    if not sandbox.store.can_view_lightning_invoices:
        raise SandboxError(403, "missing-permission", "btcpay.store.canviewlightninginvoice is required")
    return web.json_response(lightning_invoice_json(sandbox.store, request.match_info["id"].lower()))


def lightning_invoice_json(store: Store, payment_hash: str) -> dict[str, Any]:
    minted = store.node.minted.get(payment_hash)
    if minted is None:
        raise SandboxError(404, "invoice-not-found", NOT_FOUND)
    payment = next(
        (p for invoice in store.invoices.values() for p in invoice.payments if p.id == payment_hash), None
    )
    expired = now() >= minted.expires_at
    status = "Paid" if payment is not None else "Expired" if expired else "Unpaid"
    return {
        "id": minted.payment_hash,
        "status": status,
        "BOLT11": minted.bolt11,
        "paidAt": payment.received if payment else None,
        "expiresAt": minted.expires_at,
        "amount": str(minted.amount_msat),
        "amountReceived": str(payment.amount_msat if payment else 0),
        "paymentHash": minted.payment_hash,
        "preimage": payment.preimage if payment else None,
        "customRecords": None,
    }
