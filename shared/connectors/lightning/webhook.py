"""An incoming Lightning webhook: BTCPay (``BTCPay-Sig``) or Alby (Standard Webhooks), verified on the
raw body. Unknown event types are accepted too: ingest records them. Nothing here is trusted to
settle anything; ingest re-reads the invoice from the back end."""

from collections.abc import Mapping

import orjson
from pydantic import ValidationError

from shared.connectors.base import AcceptedWebhook, WebhookRejected
from shared.connectors.lightning.btcpay.webhook_events import BtcpayWebhookEvent
from shared.connectors.lightning.btcpay.webhook_signature import btcpay_signature_matches
from shared.domain.provider import Provider
from shared.messaging.raw_deliveries import RawDelivery
from shared.security.secret_values import as_secret_str
from shared.security.secrets import SecretProvider
from shared.security.webhook_signing import signature_headers, signed_with


async def verify_lightning_webhook(
    headers: Mapping[str, str], body: bytes, secrets: SecretProvider
) -> AcceptedWebhook:
    # Current secret, or the previous one inside its rotation window (secret provider).
    btcpay_signature = headers.get("BTCPay-Sig")
    if btcpay_signature is not None:
        if not await secrets.verify(
            "btcpay_webhook_secret",
            lambda secret: btcpay_signature_matches(btcpay_signature, body, as_secret_str(secret)),
        ):
            raise WebhookRejected(401, "unauthorized", "BTCPay-Sig does not match the body")
        try:
            event = BtcpayWebhookEvent.model_validate_json(body)
        except ValidationError as exc:
            raise WebhookRejected.unreadable(exc) from exc
        return _accepted("btcpay", event.dedupe_key, event.type, body)
    if (standard := signature_headers(headers)) is not None:
        if not await secrets.verify(
            "alby_webhook_secret",
            lambda secret: signed_with(secret, headers, body),
        ):
            raise WebhookRejected(
                401, "unauthorized", "webhook-signature does not match (or the timestamp is too far off)"
            )
        payload = _json_object(body)
        if payload is None or not isinstance(payload.get("payment_hash"), str):
            raise WebhookRejected(
                400, "invalid_webhook", "an Alby invoice event needs a payment_hash", "payment_hash"
            )
        return _accepted("alby", standard["webhook-id"], str(payload.get("type") or "invoice"), body)
    raise WebhookRejected(401, "unauthorized", "no BTCPay-Sig or webhook-signature header")


def _accepted(source: str, delivery_id: str, event_type: str, body: bytes) -> AcceptedWebhook:
    return AcceptedWebhook(
        delivery=RawDelivery(provider=Provider.LIGHTNING, source=source, delivery_id=delivery_id, body=body),
        answer={"status": "accepted", "delivery_id": delivery_id},
        event_type=event_type,
    )


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
