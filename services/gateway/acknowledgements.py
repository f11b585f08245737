"""Signed acknowledgements: every webhook response carries a Standard Webhooks signature of its body.

Headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">``) under the current ``ack_signing_secret``; a provider or auditor holding
that key verifies with any Standard Webhooks library (docs/security.md shows how).
"""

from typing import Any

import structlog
from aiohttp import web

from services.gateway.security_context import SECURITY
from shared.http.errors import error_response
from shared.security.webhook_signing import sign_body

log = structlog.get_logger(__name__)
WEBHOOK_PREFIX = "/v1/webhooks/"


@web.middleware
async def sign_webhook_acknowledgements(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith(WEBHOOK_PREFIX):
        return await handler(request)  # type: ignore[no-any-return]
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        response = error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except Exception:
        log.exception("webhook_handler_failed", path=request.path)
        response = error_response(500, "internal_error", "the delivery was not accepted; retry later")
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes | bytearray):
        return response
    key = await request.app[SECURITY].secrets.current("ack_signing_secret")
    response.headers.update(sign_body(key, bytes(response.body)).as_dict())
    return response
