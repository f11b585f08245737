"""The BTCPay sandbox as an aiohttp app: Greenfield API behind ``Authorization: token``, plus control."""

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import httpx
from aiohttp import web
from aiohttp.typedefs import Middleware

from sandboxes.btcpay import control_routes, faults, greenfield_routes, lightning_routes, lnurl_routes
from sandboxes.btcpay.context import SANDBOX
from sandboxes.btcpay.lightning_node import SandboxNode
from sandboxes.btcpay.sandbox import BtcpaySandbox
from sandboxes.btcpay.state import SandboxError, Store
from sandboxes.btcpay.webhook_delivery import Webhook, WebhookSender

# Public Greenfield endpoints (the customer's side of a pull payment) need no API key.
_PUBLIC_PREFIXES = ("/api/v1/pull-payments/",)


@dataclass(frozen=True)
class SandboxConfig:
    port: int
    store_id: str
    api_key: str
    store_name: str = "HomeTryOn Sandbox Store"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    btc_usd: Decimal = Decimal("65000.00")
    retry_scale: float = 0.01
    node_key_hex: str | None = None


def build_app(config: SandboxConfig) -> web.Application:
    app = web.Application(middlewares=[_problem_details, _authenticate(config), faults.fail_invoice_reads])
    app[faults.FAULTS] = faults.InvoiceReadFault()
    app.add_routes(faults.routes)
    app.add_routes(greenfield_routes.routes)
    app.add_routes(lightning_routes.routes)
    app.add_routes(lnurl_routes.routes)
    app.add_routes(control_routes.routes)
    app.router.add_get("/healthz", _health)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        sender = WebhookSender(http, config.retry_scale)
        store = Store(
            id=config.store_id,
            name=config.store_name,
            api_key=config.api_key,
            node=SandboxNode(config.node_key_hex),
            rates={"BTC_USD": config.btc_usd, "BTC_EUR": config.btc_usd * Decimal("0.92")},
        )
        sandbox = BtcpaySandbox(store, sender, f"http://127.0.0.1:{config.port}")
        if config.webhook_url and config.webhook_secret:
            sender.add(
                Webhook(
                    id="sandbox-webhook",
                    store_id=store.id,
                    url=config.webhook_url,
                    secret=config.webhook_secret,
                )
            )
        app[SANDBOX] = sandbox
        expiry = asyncio.create_task(sandbox.expire_invoices_forever())
        yield
        expiry.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await expiry
        await sender.close()
        await http.aclose()

    app.cleanup_ctx.append(lifecycle)
    return app


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _problem_details(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SandboxError as exc:
        if exc.code == "validation":
            return web.json_response([{"path": "", "message": str(exc)}], status=exc.status)
        return web.json_response({"code": exc.code, "message": str(exc)}, status=exc.status)


def _authenticate(config: SandboxConfig) -> Middleware:
    expected = f"token {config.api_key}".encode()

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith("/api/v1/") and not path.startswith(_PUBLIC_PREFIXES):
            received = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(received, expected):
                return web.json_response(
                    {
                        "code": "unauthenticated",
                        "message": "Authentication is required for accessing this endpoint",
                    },
                    status=401,
                )
            store_id = request.match_info.get("storeId")
            if store_id is not None and store_id != config.store_id:
                return web.json_response(
                    {"code": "store-not-found", "message": "Store not found"}, status=403
                )
        return await handler(request)

    return authenticate
