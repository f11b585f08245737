"""What the SDK raises: the gateway's machine-readable errors, and a cache that must not answer."""

from typing import Any


class BillingApiError(Exception):
    """A 4xx/5xx answer of the gateway: ``{"error": {"code", "message", "field"?}}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra


class CacheNotReadyError(Exception):
    """The entitlement cache refuses to answer: it is not known to be current.

    ``reason`` is one of ``not_started``, ``catching_up``, ``disconnected``, ``lagging``, ``silent``.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class UnknownUserError(LookupError):
    """The cache was not asked to follow this user, so it holds nothing it could answer from."""
