"""BTCPay's ``BTCPay-Sig``: HMAC-SHA256 of the raw body, compared in constant time, under the current
or (during a rotation) the previous secret."""

import hashlib
import hmac

from pydantic import SecretStr


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
