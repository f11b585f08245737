"""Provider webhooks: verify, check the envelope, put the raw delivery durably on Kafka, then 200.

Nothing else happens in the request path; normalization is webhook_ingest's job.
"""

import time

import structlog
from aiohttp import web
from pydantic import ValidationError

from services.gateway.context import GATEWAY
from services.gateway.errors import error_response
from services.gateway.security import SECURITY
from shared.connectors.revenuecat.events import RevenueCatWebhook
from shared.connectors.revenuecat.webhook_auth import authorization_matches
from shared.domain.provider import Provider
from shared.observability.metrics import WEBHOOKS_RECEIVED
from shared.security.secret_values import as_secret_str

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


@routes.post("/v1/webhooks/revenuecat")
async def receive_revenuecat_webhook(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    received_authorization = request.headers.get("Authorization")
    # Current value, or the previous one inside its rotation window (secret provider).
    if not await request.app[SECURITY].secrets.verify(
        "revenuecat_webhook_authorization",
        lambda secret: authorization_matches(received_authorization, as_secret_str(secret)),
    ):
        log.warning("webhook_rejected", provider="revenuecat", reason="authorization")
        WEBHOOKS_RECEIVED.labels("revenuecat", "unauthorized").inc()
        return error_response(401, "unauthorized", "Authorization header does not match")
    body = await request.read()
    try:
        webhook = RevenueCatWebhook.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        WEBHOOKS_RECEIVED.labels("revenuecat", "invalid").inc()
        return error_response(400, "invalid_webhook", first["msg"], field)
    await ctx.producer.send_and_wait(
        ctx.topics.webhooks_raw,
        value=body,
        key=f"revenuecat:{webhook.event.id}".encode(),
        headers=[
            ("provider", Provider.REVENUECAT.value.encode()),
            ("received-at-ms", str(int(time.time() * 1000)).encode()),
        ],
    )
    WEBHOOKS_RECEIVED.labels("revenuecat", "accepted").inc()
    log.info(
        "webhook_accepted",
        provider="revenuecat",
        event_id=webhook.event.id,
        event_type=webhook.event.type,
    )
    return web.json_response({"status": "accepted", "event_id": webhook.event.id})
