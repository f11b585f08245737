"""``?at=`` and ``?known_at=`` on the read routes: RFC 3339 times that ask for a past answer.

``at`` is the provider's clock (when a change happened there), ``known_at`` ours (when we had
recorded it); ``known_at`` alone means "what we would have answered then" (``at`` = ``known_at``).
"""

import re
from datetime import UTC, datetime

from multidict import MultiMapping

from shared.db.entitlement_history import AsOf

# RFC 3339 §5.6 date-time: a full date, a full time and an offset (``Z`` or ``±hh:mm``).
RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


class InvalidTime(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def requested_as_of(query: MultiMapping[str]) -> AsOf | None:
    """The past time the query asks about, or None for the current state; ``InvalidTime`` if malformed."""
    at, known_at = _time(query, "at"), _time(query, "known_at")
    if at is None:
        return None if known_at is None else AsOf(known_at, known_at)
    return AsOf(at, known_at)


def _time(query: MultiMapping[str], name: str) -> datetime | None:
    values = query.getall(name, [])
    if not values:
        return None
    if len(values) > 1:
        raise InvalidTime(name, f"give {name} once")
    value = values[0]
    if not RFC3339_DATE_TIME.fullmatch(value):
        # A "+" left unencoded in a query string arrives as a space.
        raise InvalidTime(
            name, f"{name} must be an RFC 3339 date-time with an offset, such as 2026-03-03T00:00:00Z "
            "(send + as %2B)",
        )  # fmt: skip
    try:
        parsed = datetime.fromisoformat(value.upper().replace(" ", "T"))
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidTime(name, f"{name} is not a valid date-time") from None
