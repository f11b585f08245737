"""Invoice reads failing on demand, the way a BTCPay outage looks to a merchant re-reading invoices.

``POST /control/faults {"invoiceReads": "error", "status"?: 503}`` makes ``GET …/invoices/{id}`` (and
its ``/payment-methods``) answer that status, ``"drop"`` closes the connection without an answer,
``"off"`` clears it. Creating invoices, listing them and the control API keep working.
``"writeDelayMs": N`` makes every Greenfield ``POST`` (invoice, refund, payout) wait N ms first, the
way a slow BTCPay widens the window in which concurrent requests of ours overlap.
"""

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

routes = web.RouteTableDef()
_INVOICE_READ = re.compile(r"^/api/v1/stores/[^/]+/invoices/[^/]+(/payment-methods)?$")


@dataclass
class InvoiceReadFault:
    mode: str = "off"  # "off" | "error" | "drop"
    status: int = 503
    failed: int = 0  # reads answered with the fault, for tests to see it bite
    write_delay_ms: int = 0


FAULTS = web.AppKey("btcpay_faults", InvoiceReadFault)


@web.middleware
async def fail_invoice_reads(request: web.Request, handler: Handler) -> web.StreamResponse:
    fault = request.app[FAULTS]
    if fault.write_delay_ms and request.method == "POST" and request.path.startswith("/api/v1/stores/"):
        await asyncio.sleep(fault.write_delay_ms / 1000)
    if fault.mode == "off" or request.method != "GET" or not _INVOICE_READ.match(request.path):
        return await handler(request)
    fault.failed += 1
    if fault.mode == "drop" and request.transport is not None:
        request.transport.close()
        raise web.HTTPServiceUnavailable()
    return web.json_response({"code": "service-unavailable", "message": "sandbox fault"}, status=fault.status)


@routes.post("/control/faults")
async def set_faults(request: web.Request) -> web.Response:
    body: dict[str, Any] = await request.json() if request.can_read_body else {}
    mode = str(body.get("invoiceReads", "off"))
    if mode not in ("off", "error", "drop"):
        message = "invoiceReads must be off, error or drop"
        return web.json_response({"code": "validation", "message": message}, status=400)
    fault = request.app[FAULTS]
    fault.mode, fault.status = mode, int(body.get("status", 503))
    fault.write_delay_ms = int(body.get("writeDelayMs", 0))
    answer = {"invoiceReads": fault.mode, "status": fault.status, "failed": fault.failed}
    return web.json_response(answer | {"writeDelayMs": fault.write_delay_ms})
