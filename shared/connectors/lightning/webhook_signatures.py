"""Webhook signatures: BTCPay's ``BTCPay-Sig`` (HMAC-SHA256 of the raw body) and Standard Webhooks
(Alby/Svix). Both compare in constant time and accept the previous secret during a rotation."""

import hashlib
import hmac
from collections.abc import Mapping

from pydantic import SecretStr
from standardwebhooks import Webhook, WebhookVerificationError

STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")


def _secrets(current: SecretStr, previous: SecretStr | None) -> list[str]:
    return [s.get_secret_value() for s in (current, previous) if s is not None and s.get_secret_value()]


def btcpay_signature_matches(
    header: str | None, body: bytes, current: SecretStr, previous: SecretStr | None = None
) -> bool:
    """``BTCPay-Sig: sha256=<hex HMAC(secret, body)>`` under the current or previous secret."""
    if not header or not header.startswith("sha256="):
        return False
    received = header.removeprefix("sha256=").strip().lower().encode()
    matches = [
        hmac.compare_digest(received, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode())
        for secret in _secrets(current, previous)
    ]
    return any(matches)


def standard_webhook_headers(headers: Mapping[str, str]) -> dict[str, str] | None:
    """The ``webhook-*`` headers (or Svix's ``svix-*`` spelling of them), or None when absent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for names in (STANDARD_HEADERS, SVIX_HEADERS):
        if all(name in lowered for name in names):
            return dict(zip(STANDARD_HEADERS, (lowered[n] for n in names), strict=True))
    return None


def standard_webhook_verified(
    headers: Mapping[str, str], body: bytes, current: SecretStr, previous: SecretStr | None = None
) -> bool:
    """Signature (any ``v1`` entry) and timestamp tolerance (±5 min), per Standard Webhooks 1.0."""
    found = standard_webhook_headers(headers)
    if found is None:
        return False
    for secret in _secrets(current, previous):
        try:
            Webhook(secret).verify(body, found)
            return True
        except WebhookVerificationError:
            continue
    return False
