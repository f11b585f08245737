"""ISO 8601 durations (``P1M``, ``P1W``, ``P30D``, ``PT12H``) added to a point in time, calendar-aware."""

import calendar
import re
from datetime import datetime, timedelta

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def add_period(start: datetime, period: str) -> datetime:
    """``start`` plus the duration; month ends clamp (31 Jan + P1M = 28/29 Feb)."""
    match = _DURATION.match(period)
    if match is None or period in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {period!r}")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    months = parts.get("years", 0) * 12 + parts.get("months", 0)
    shifted = _add_months(start, months) if months else start
    return shifted + timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


def _add_months(start: datetime, months: int) -> datetime:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
