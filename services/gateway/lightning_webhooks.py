"""``POST /v1/webhooks/lightning``: BTCPay (``BTCPay-Sig``) or Alby (Standard Webhooks), verified on
the raw body, then put durably on Kafka and answered 200. Unknown event types are accepted too:
webhook_ingest records them. Nothing here is trusted to settle anything; ingest re-reads."""

import orjson
import structlog
from aiohttp import web
from pydantic import ValidationError

from services.gateway.context import GATEWAY
from services.gateway.errors import error_response
from services.gateway.lightning_ingress import publish_raw_delivery
from services.gateway.security import SECURITY
from shared.connectors.lightning.btcpay_events import BtcpayWebhookEvent
from shared.connectors.lightning.webhook_signatures import (
    btcpay_signature_matches,
    standard_webhook_headers,
    standard_webhook_verified,
)
from shared.observability.metrics import WEBHOOKS_RECEIVED
from shared.security.secret_values import as_secret_str

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


@routes.post("/v1/webhooks/lightning")
async def receive_lightning_webhook(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    # Current secret, or the previous one inside its rotation window (secret provider).
    secrets = request.app[SECURITY].secrets
    body = await request.read()
    btcpay_signature = request.headers.get("BTCPay-Sig")
    if btcpay_signature is not None:
        if not await secrets.verify(
            "btcpay_webhook_secret",
            lambda secret: btcpay_signature_matches(btcpay_signature, body, as_secret_str(secret)),
        ):
            return _unauthorized("btcpay", "BTCPay-Sig does not match the body")
        try:
            event = BtcpayWebhookEvent.model_validate_json(body)
        except ValidationError as exc:
            return _invalid("btcpay", exc)
        source, delivery_id, event_type = "btcpay", event.dedupe_key, event.type
    elif (standard := standard_webhook_headers(request.headers)) is not None:
        if not await secrets.verify(
            "alby_webhook_secret",
            lambda secret: standard_webhook_verified(request.headers, body, as_secret_str(secret)),
        ):
            return _unauthorized("alby", "webhook-signature does not match (or the timestamp is too far off)")
        payload = _json_object(body)
        if payload is None or not isinstance(payload.get("payment_hash"), str):
            WEBHOOKS_RECEIVED.labels("lightning", "invalid").inc()
            return error_response(
                400, "invalid_webhook", "an Alby invoice event needs a payment_hash", "payment_hash"
            )
        source, delivery_id, event_type = (
            "alby",
            standard["webhook-id"],
            str(payload.get("type") or "invoice"),
        )
    else:
        return _unauthorized("unknown", "no BTCPay-Sig or webhook-signature header")
    await publish_raw_delivery(
        ctx.producer, ctx.topics.webhooks_raw, source=source, delivery_id=delivery_id, body=body
    )
    WEBHOOKS_RECEIVED.labels("lightning", "accepted").inc()
    log.info(
        "webhook_accepted",
        provider="lightning",
        source=source,
        delivery_id=delivery_id,
        event_type=event_type,
    )
    return web.json_response({"status": "accepted", "delivery_id": delivery_id})


def _unauthorized(source: str, message: str) -> web.Response:
    log.warning("webhook_rejected", provider="lightning", source=source, reason="signature")
    WEBHOOKS_RECEIVED.labels("lightning", "unauthorized").inc()
    return error_response(401, "unauthorized", message)


def _invalid(source: str, exc: ValidationError) -> web.Response:
    first = exc.errors()[0]
    WEBHOOKS_RECEIVED.labels("lightning", "invalid").inc()
    log.warning("webhook_rejected", provider="lightning", source=source, reason="envelope")
    return error_response(
        400, "invalid_webhook", first["msg"], ".".join(str(p) for p in first["loc"]) or None
    )


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
