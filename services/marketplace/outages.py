"""A dependency that is down (Postgres, Redis, a provider) answers a "try again" page, never a 500 trace.

Only marketplace paths are handled here; the API keeps its own error handling.
"""

from typing import Any

import httpx
import structlog
from aiohttp import web
from hvac.exceptions import VaultError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from shared.security.secret_values import SecretNotConfiguredError
from shared.security.vault_store import VaultUnavailableError

log = structlog.get_logger(__name__)
MARKETPLACE_PREFIXES = ("/market/", "/paywall")
# Down or not provisioned yet: Postgres, Redis, a provider, Vault or the session secret in it.
MARKETPLACE_UNAVAILABLE = (
    SQLAlchemyError,
    RedisError,
    httpx.TransportError,
    OSError,
    VaultUnavailableError,
    VaultError,
    SecretNotConfiguredError,
)
RETRY_AFTER_S = "5"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Try again in a moment</title>
<link rel="stylesheet" href="/market/static/market.css"></head><body><main><section class="notice error">
<h1>Try again in a moment</h1><p>Part of the shop is briefly unavailable. Nothing was charged.</p>
<p><a href="">Reload</a></p></section></main></body></html>"""


@web.middleware
async def dependency_outages(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith(MARKETPLACE_PREFIXES):
        return await handler(request)  # type: ignore[no-any-return]
    try:
        return await handler(request)  # type: ignore[no-any-return]
    except MARKETPLACE_UNAVAILABLE as exc:
        log.warning("marketplace_dependency_down", path=request.path, error=type(exc).__name__)
        headers = {"Retry-After": RETRY_AFTER_S, "Cache-Control": "no-store"}
        if request.path.endswith("/status"):  # the invoice page's poll reads JSON
            body = {"error": {"code": "temporarily_unavailable", "message": "try again shortly"}}
            return web.json_response(body, status=503, headers=headers)
        return web.Response(text=PAGE, status=503, content_type="text/html", headers=headers)
