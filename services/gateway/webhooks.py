"""``POST /v1/webhooks/{provider}``: verify, put the raw delivery durably on Kafka, then 200.

The provider's plugin checks its own authentication on the raw body and reads the delivery's id;
nothing else happens in the request path (confirming and mapping is webhook_ingest's job).
"""

import time

import structlog
from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.request_metrics import timed_webhook
from services.gateway.security_context import SECURITY
from shared.connectors.base import WebhookRejected
from shared.domain.provider import Provider
from shared.http.errors import error_response
from shared.messaging.raw_deliveries import publish_raw_delivery
from shared.messaging.telemetry import TelemetryType
from shared.observability.metrics import WEBHOOKS_RECEIVED

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


@routes.post("/v1/webhooks/{provider}")
@timed_webhook
async def receive_webhook(request: web.Request) -> web.Response:
    arrived = time.monotonic()
    ctx = request.app[GATEWAY]
    name = request.match_info["provider"]
    plugin = ctx.providers.get(Provider(name)) if name in set(Provider) else None
    if plugin is None:
        return error_response(404, "unknown_provider", f"no webhooks are taken for {name!r}", "provider")
    body = await request.read()
    try:
        accepted = await plugin.verify_webhook(request.headers, body, request.app[SECURITY].secrets)
    except WebhookRejected as rejected:
        outcome = "unauthorized" if rejected.status == 401 else "invalid"
        WEBHOOKS_RECEIVED.labels(name, outcome).inc()
        log.warning("webhook_rejected", provider=name, reason=rejected.code)
        return error_response(rejected.status, rejected.code, rejected.message, rejected.field)
    delivery = accepted.delivery
    await publish_raw_delivery(ctx.producer, ctx.topics.webhooks_raw, delivery)
    WEBHOOKS_RECEIVED.labels(name, "accepted").inc()
    accept_latency_ms = int((time.monotonic() - arrived) * 1000)
    ctx.telemetry.emit(
        TelemetryType.WEBHOOK_RECEIVED, {"provider": name, "acceptLatencyMs": accept_latency_ms}
    )
    log.info(
        "webhook_accepted",
        provider=name,
        source=delivery.source,
        delivery_id=delivery.delivery_id,
        event_type=accepted.event_type,
    )
    return web.json_response(dict(accepted.answer))
