"""Secret values that never show themselves: not in repr(), str(), f-strings, logs or exceptions."""

import hmac
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import SecretStr

REDACTED = "**********"


class SecretValue:
    """A secret string; ``reveal()`` is the only way to read it, so every use is greppable."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def equals(self, candidate: str | bytes) -> bool:
        """Constant-time comparison with ``candidate``."""
        given = candidate.encode() if isinstance(candidate, str) else candidate
        return hmac.compare_digest(self._value.encode(), given)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"SecretValue('{REDACTED}')"

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a SecretValue cannot be pickled")


def as_secret_str(value: SecretValue) -> SecretStr:
    """For verifiers written against pydantic's ``SecretStr`` (also never shown in repr/logs)."""
    return SecretStr(value.reveal())


class SecretNotConfiguredError(LookupError):
    """No value is configured for the secret; the message names it, never a value."""

    def __init__(self, name: str) -> None:
        super().__init__(f"secret {name!r} is not configured")
        self.name = name


@dataclass(frozen=True)
class SecretVersions:
    """A secret's current value and, during a rotation window, its previous one."""

    name: str
    current: SecretValue
    previous: SecretValue | None = None
    # None with a previous value = no end (configured by hand, e.g. BILLING_…_PREVIOUS).
    previous_valid_until: datetime | None = None
    # The back end's version of this record (Vault KV v2), for check-and-set writes.
    version: int | None = field(default=None, compare=False)
    # When the current value was made current (None: set by hand in the environment, age unknown).
    rotated_at: datetime | None = field(default=None, compare=False)

    def verifying(self, now: datetime) -> list[SecretValue]:
        """Values a signature may be made with at ``now``: current, then previous inside its window."""
        values = [self.current] if self.current else []
        if self.previous and (self.previous_valid_until is None or now < self.previous_valid_until):
            values.append(self.previous)
        return values
