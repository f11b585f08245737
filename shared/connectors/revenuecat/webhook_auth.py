"""RevenueCat webhook authentication: the dashboard's Authorization value, compared in constant time."""

import hmac

from pydantic import SecretStr


def authorization_matches(
    received: str | None, current: SecretStr, previous: SecretStr | None = None
) -> bool:
    """True when the header equals the current (or, during rotation, the previous) value."""
    if not received:
        return False
    candidates = [s.get_secret_value() for s in (current, previous) if s is not None]
    received_bytes = received.encode()
    results = [hmac.compare_digest(received_bytes, c.encode()) for c in candidates if c]
    return any(results)
