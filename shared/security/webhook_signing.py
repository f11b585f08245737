"""Standard Webhooks signatures (the ``standardwebhooks`` library): signing our acknowledgements, and
verifying incoming ones (Alby Hub's). Signing uses only the current key; verification accepts the
current key and, inside the rotation window, the previous one (``SecretProvider.verify``). The
library refuses timestamps more than 5 minutes off.
"""

import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks import Webhook, WebhookVerificationError

from shared.security.secret_values import SecretValue

HEADER_NAMES = ("webhook-id", "webhook-timestamp", "webhook-signature")
SVIX_NAMES = ("svix-id", "svix-timestamp", "svix-signature")


@dataclass(frozen=True)
class SignatureHeaders:
    webhook_id: str
    webhook_timestamp: str
    webhook_signature: str

    def as_dict(self) -> dict[str, str]:
        return dict(
            zip(HEADER_NAMES, (self.webhook_id, self.webhook_timestamp, self.webhook_signature), strict=True)
        )


def sign_body(
    key: SecretValue, body: bytes, message_id: str | None = None, at: datetime | None = None
) -> SignatureHeaders:
    """Headers carrying a ``v1`` signature of ``{id}.{timestamp}.{body}`` under ``key``."""
    message_id = message_id or f"ack_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(key.reveal()).sign(message_id, at, body.decode("utf-8", errors="replace"))
    return SignatureHeaders(message_id, str(int(at.timestamp())), signature)


def signature_headers(headers: Mapping[str, str]) -> dict[str, str] | None:
    """The ``webhook-*`` headers (or Svix's ``svix-*`` spelling), or None when any is missing."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for names in (HEADER_NAMES, SVIX_NAMES):
        if all(lowered.get(n) for n in names):
            return dict(zip(HEADER_NAMES, (lowered[n] for n in names), strict=True))
    return None


def signed_with(key: SecretValue, headers: Mapping[str, str], body: bytes) -> bool:
    """True when a ``v1`` entry of the signature header is ``key``'s signature of the body, sent now."""
    found = signature_headers(headers)
    if found is None or not key:
        return False
    try:
        Webhook(key.reveal()).verify(body, found, json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error):
        return False
    return True
