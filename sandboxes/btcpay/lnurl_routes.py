"""BTCPay's own LNURL-pay endpoint for an invoice (the ``BTC-LNURL`` payment method, LUD-06)."""

from aiohttp import web

from sandboxes.btcpay.context import SANDBOX
from sandboxes.btcpay.state import SandboxError

routes = web.RouteTableDef()


@routes.get("/BTC/UILNURL/pay/i/{invoiceId}")
async def lnurl_pay(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    try:
        invoice = sandbox.store.invoice(request.match_info["invoiceId"])
        if "amount" not in request.query:
            sandbox.expire_if_due(invoice)
            if invoice.status != "New":
                raise SandboxError(400, "invoice-not-payable", "invoice is not awaiting payment")
            return web.json_response(
                {
                    "tag": "payRequest",
                    "callback": sandbox.lnurl_pay_url(invoice),
                    "minSendable": invoice.due_msat,
                    "maxSendable": invoice.due_msat,
                    "metadata": sandbox.lnurl_metadata(invoice),
                    "commentAllowed": 0,
                }
            )
        minted = sandbox.lnurl_invoice(invoice, int(request.query["amount"]))
    except (SandboxError, ValueError) as exc:
        return web.json_response({"status": "ERROR", "reason": str(exc)})
    return web.json_response({"pr": minted.bolt11, "routes": []})
