"""When the cache may answer: it knows it is current only up to the last end-offset probe it passed.

A probe reads the topic's end offsets at monotonic time ``at``; once the consumer's position has
reached them on every partition, everything published before ``at`` has been applied, so the cache
is current *as of* ``at``. Its age is the staleness the bound is checked against (pure: no I/O).
"""

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    NOT_STARTED = "not_started"
    CATCHING_UP = "catching_up"  # bootstrapped, replaying what was published meanwhile
    LIVE = "live"
    DISCONNECTED = "disconnected"  # the last probe or fetch failed
    STOPPED = "stopped"


@dataclass(frozen=True)
class Probe:
    at: float
    ends: dict[int, int]  # partition -> end offset

    def reached(self, positions: dict[int, int]) -> bool:
        return all(positions.get(p, 0) >= end for p, end in self.ends.items())

    def behind(self, positions: dict[int, int]) -> dict[int, int]:
        return {p: max(0, end - positions.get(p, 0)) for p, end in self.ends.items()}


@dataclass(frozen=True)
class Lag:
    """What ``EntitlementCache.lag()`` reports."""

    phase: Phase
    records_behind: dict[int, int]  # per partition: the last probe's end minus the position
    current_as_of_age_s: float | None  # seconds since the cache was last known current; None: never
    last_event_age_s: float | None  # seconds since the last event applied; None: none yet
    error: str | None  # why the follower is disconnected

    @property
    def total_records_behind(self) -> int:
        return sum(self.records_behind.values())


@dataclass(frozen=True)
class Bounds:
    max_staleness_s: float = 5.0
    max_records_behind: int = 1_000


def refusal(lag: Lag, bounds: Bounds) -> tuple[str, str] | None:
    """``(reason, detail)`` when the cache must not answer, else None."""
    if lag.phase is not Phase.LIVE:
        return lag.phase.value, lag.error or f"the cache is {lag.phase.value}"
    if lag.total_records_behind > bounds.max_records_behind:
        return "lagging", f"{lag.total_records_behind} events behind (bound {bounds.max_records_behind})"
    if lag.current_as_of_age_s is None or lag.current_as_of_age_s > bounds.max_staleness_s:
        return "silent", f"not known current for {lag.current_as_of_age_s}s (bound {bounds.max_staleness_s}s)"
    return None
