"""LNURL-pay (LUD-06) for a Lightning checkout: ``GET /v1/lnurl/pay/{sessionId}`` answers the
payRequest, ``…/callback?amount=<msat>`` the BOLT11 whose ``h`` is sha256 of the metadata.
Errors use LUD-06's own shape (``{"status": "ERROR", "reason"}``), which wallets understand."""

import uuid

import structlog
from aiohttp import web

from shared.connectors.lightning.http.runtime import lightning_adapter
from shared.domain.errors import ProviderError

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


def _lnurl_error(reason: str, status: int = 200) -> web.Response:
    return web.json_response({"status": "ERROR", "reason": reason}, status=status)


def _session_id(request: web.Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.match_info["sessionId"])
    except ValueError:
        return None


@routes.get("/v1/lnurl/pay/{sessionId}")
async def lnurl_pay_request(request: web.Request) -> web.Response:
    adapter = lightning_adapter(request.app)
    session_id = _session_id(request)
    if adapter is None or session_id is None:
        return _lnurl_error("unknown checkout", 404)
    try:
        return web.json_response(await adapter.lnurl_pay_request(session_id))
    except LookupError:
        return _lnurl_error("unknown checkout", 404)
    except ProviderError as exc:
        log.info("lnurl_refused", session_id=str(session_id), error=str(exc))
        return _lnurl_error(str(exc))


@routes.get("/v1/lnurl/pay/{sessionId}/callback")
async def lnurl_callback(request: web.Request) -> web.Response:
    adapter = lightning_adapter(request.app)
    session_id = _session_id(request)
    if adapter is None or session_id is None:
        return _lnurl_error("unknown checkout", 404)
    try:
        amount_msat = int(request.query["amount"])
    except (KeyError, ValueError):
        return _lnurl_error("amount (msat) is required", 400)
    try:
        return web.json_response(await adapter.lnurl_invoice(session_id, amount_msat))
    except LookupError:
        return _lnurl_error("unknown checkout", 404)
    except ProviderError as exc:
        log.info("lnurl_refused", session_id=str(session_id), error=str(exc))
        return _lnurl_error(str(exc))
