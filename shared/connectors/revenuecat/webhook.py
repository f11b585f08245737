"""An incoming RevenueCat webhook: the configured ``Authorization`` value, then the envelope.

RevenueCat signs nothing; it sends the Authorization header value set in its dashboard, compared
here in constant time (the current value, or the previous one inside its rotation window).
"""

from collections.abc import Mapping

from pydantic import ValidationError

from shared.connectors.base import AcceptedWebhook, WebhookRejected
from shared.connectors.revenuecat.events import RevenueCatWebhook
from shared.connectors.revenuecat.webhook_auth import authorization_matches
from shared.domain.provider import Provider
from shared.messaging.raw_deliveries import RawDelivery
from shared.security.secret_values import as_secret_str
from shared.security.secrets import SecretProvider


async def verify_revenuecat_webhook(
    headers: Mapping[str, str], body: bytes, secrets: SecretProvider
) -> AcceptedWebhook:
    received_authorization = headers.get("Authorization")
    if not await secrets.verify(
        "revenuecat_webhook_authorization",
        lambda secret: authorization_matches(received_authorization, as_secret_str(secret)),
    ):
        raise WebhookRejected(401, "unauthorized", "Authorization header does not match")
    try:
        webhook = RevenueCatWebhook.model_validate_json(body)
    except ValidationError as exc:
        raise WebhookRejected.unreadable(exc) from exc
    event = webhook.event
    return AcceptedWebhook(
        delivery=RawDelivery(provider=Provider.REVENUECAT, delivery_id=event.id, body=body),
        answer={"status": "accepted", "event_id": event.id},
        event_type=event.type,
    )
