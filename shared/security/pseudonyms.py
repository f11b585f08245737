"""Pseudonymous user ids for telemetry: HMAC-SHA256 of the user id under ``telemetry_pseudonym_secret``.

A keyed hash, not a plain one: user ids are guessable, so ``sha256(user id)`` could be reversed by
hashing candidates. Without the key a pseudonym names nobody; the same user keeps one pseudonym until
the secret is rotated (rotation starts new pseudonyms; counts never depend on them).
"""

import hashlib
import hmac

from shared.security.secrets import SecretProvider

SECRET_NAME = "telemetry_pseudonym_secret"  # noqa: S105 (a secret's name)
PSEUDONYM_HEX_CHARS = 32  # 128 bits: no collisions among any realistic number of users


class Pseudonymizer:
    def __init__(self, secrets: SecretProvider) -> None:
        self._secrets = secrets

    async def of(self, value: str) -> str:
        """The pseudonym of ``value`` (a user id, or a key that contains one)."""
        # Generated on first use (env back end, or a Vault we may write); cached like every secret.
        key = (await self._secrets.ensure_generated(SECRET_NAME)).reveal().encode()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]
