"""The NWC sandbox's HTTP side: health and the control API to pay, pay late, pay partially, expire,
and to see (or stop) the hosted webhooks Alby posts for settled invoices."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from nostr_sdk import Keys, SecretKey

from sandboxes.nwc.hosted_webhooks import HostedWebhooks
from sandboxes.nwc.keys import parse_connection_uri, wallet_keys_for
from sandboxes.nwc.wallet import NwcWallet, WalletError

WALLET = web.AppKey("nwc_wallet", NwcWallet)
routes = web.RouteTableDef()


def build_app(connection_uri: str, hosted_webhooks: HostedWebhooks | None = None) -> web.Application:
    _, relay_url, client_secret = parse_connection_uri(connection_uri)
    relay_port = int(relay_url.rsplit(":", 1)[1].rstrip("/"))
    client_pubkey = Keys(SecretKey.parse(client_secret)).public_key()
    app = web.Application(middlewares=[_wallet_errors])
    app.add_routes(routes)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        wallet = NwcWallet(wallet_keys_for(client_secret), client_pubkey, relay_port, hosted_webhooks)
        await wallet.start()
        app[WALLET] = wallet
        yield
        await wallet.stop()
        if hosted_webhooks is not None:
            await hosted_webhooks.close()

    app.cleanup_ctx.append(lifecycle)
    return app


@web.middleware
async def _wallet_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except WalletError as exc:
        status = 404 if exc.code == "NOT_FOUND" else 409
        return web.json_response({"error": {"code": exc.code, "message": str(exc)}}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    return body if isinstance(body, dict) else {}


@routes.get("/healthz")
async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/control/invoices/{paymentHash}")
async def get_invoice(request: web.Request) -> web.Response:
    invoice = request.app[WALLET].lookup({"payment_hash": request.match_info["paymentHash"]})
    return web.json_response(invoice.transaction(int(time.time())))


@routes.post("/control/invoices/{paymentHash}/pay")
async def pay(request: web.Request) -> web.Response:
    """``{"amountMsat"?, "late"?, "preimage"?}``: settle, reveal the preimage, notify (unless
    notifications drop). ``"preimage": "<hex>"`` reports that one instead; ``null`` reports none."""
    body = await _body(request)
    amount = body.get("amountMsat")
    reported = body.get("preimage")
    invoice = await request.app[WALLET].pay(
        request.match_info["paymentHash"],
        amount_msat=int(amount) if amount is not None else None,
        late=bool(body.get("late", False)),
        reported_preimage=str(reported) if reported is not None else None,
        reveals_preimage="preimage" not in body or reported is not None,
    )
    return web.json_response(
        {
            "paymentHash": invoice.minted.payment_hash,
            "preimage": invoice.preimage,
            "amountMsat": invoice.amount_received_msat,
            "settledAt": invoice.settled_at,
        }
    )


@routes.post("/control/invoices/{paymentHash}/expire")
async def expire(request: web.Request) -> web.Response:
    invoice = request.app[WALLET].expire(request.match_info["paymentHash"])
    return web.json_response(
        {"paymentHash": invoice.minted.payment_hash, "expiresAt": invoice.minted.expires_at}
    )


@routes.post("/control/notifications")
async def notifications(request: web.Request) -> web.Response:
    """``{"drop": true}``: settle invoices silently, as a lost relay message would."""
    wallet = request.app[WALLET]
    wallet.drop_notifications = bool((await _body(request)).get("drop", False))
    return web.json_response({"drop": wallet.drop_notifications})


@routes.get("/control/hosted-webhooks")
async def hosted_webhook_attempts(request: web.Request) -> web.Response:
    """Every attempt to deliver a hosted webhook: id, HTTP status (or error), payload."""
    hosted = request.app[WALLET].hosted_webhooks
    return web.json_response({"attempts": hosted.sent if hosted is not None else []})


@routes.post("/control/hosted-webhooks")
async def hosted_webhook_switch(request: web.Request) -> web.Response:
    """``{"drop": true}``: settle without posting the hosted webhook (an endpoint Alby disabled)."""
    wallet = request.app[WALLET]
    wallet.drop_hosted_webhooks = bool((await _body(request)).get("drop", False))
    return web.json_response({"drop": wallet.drop_hosted_webhooks})
