"""The browser's signed session cookie and the per-form tokens its POSTs carry.

The cookie holds only the user id and an expiry, signed with HMAC-SHA256 under the secret
``marketplace_session_secret`` from the secret provider; during a rotation window the previous value
still verifies. Form tokens bind a POST to the page that rendered it (CSRF, with SameSite=Lax).
"""

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

import orjson

from shared.security.secret_values import SecretValue
from shared.security.secrets import SecretProvider

SECRET_NAME = "marketplace_session_secret"  # noqa: S105 (a secret's name)
COOKIE_NAME = "hto_market_session"


@dataclass(frozen=True)
class BrowserSession:
    user_id: str
    expires_at: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: SecretValue, message: str) -> str:
    return _b64(hmac.new(secret.reveal().encode(), message.encode(), hashlib.sha256).digest())


class SessionSigner:
    def __init__(self, secrets: SecretProvider, ttl_s: int, purpose: str = "cookie") -> None:
        self._secrets = secrets
        self._ttl_s = ttl_s
        # What the cookie is for, inside its MAC: a user's cookie never passes as an admin's.
        self._purpose = purpose

    async def cookie_for(self, user_id: str) -> str:
        payload = _b64(orjson.dumps({"sub": user_id, "exp": int(time.time()) + self._ttl_s}))
        return f"{payload}.{_mac(await self._secrets.current(SECRET_NAME), f'{self._purpose}:{payload}')}"

    async def session_of(self, cookie: str | None) -> BrowserSession | None:
        """The session a cookie proves, or None when it is missing, forged or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not await self._verifies(f"{self._purpose}:{payload}", signature):
            return None
        try:
            claims = orjson.loads(_unb64(payload))
            session = BrowserSession(str(claims["sub"]), int(claims["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires_at > time.time() else None

    async def form_token(self, *bound_to: str) -> str:
        """A token for a form whose POST must come back with the same ``bound_to`` values."""
        return _mac(await self._secrets.current(SECRET_NAME), "form:" + "\x1f".join(bound_to))

    async def form_token_valid(self, token: str, *bound_to: str) -> bool:
        message = "form:" + "\x1f".join(bound_to)
        return await self._verifies(message, token)

    async def _verifies(self, message: str, signature: str) -> bool:
        matched = await self._secrets.verify(
            SECRET_NAME, lambda secret: hmac.compare_digest(_mac(secret, message), signature)
        )
        return matched is not None
