"""Bounds the audit rows an unauthenticated flood can cause: per source, a burst of rows, then a count.

Per (provider, remote address) and minute, the first ``burst`` rejected webhooks get an audit row
each; the rest are only counted, and one ``webhook.rejected.suppressed`` row per source and window
carries the count once the window is over. At most ``max_sources`` sources are tracked at once;
beyond that they share one "other sources" key, so memory stays bounded too.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.domain.audit import AuditEntry

OTHER_SOURCES = "other"


@dataclass
class _Window:
    started: float
    admitted: int = 0
    suppressed: int = 0


class RejectionLimiter:
    def __init__(
        self,
        burst: int,
        window_s: float = 60.0,
        max_sources: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._window_s = window_s
        self._max_sources = max_sources
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._pending: list[AuditEntry] = []  # summaries of windows replaced before expired() saw them

    def admit(self, provider: str, remote: str) -> bool:
        """True when this rejection gets its own audit row; False when it is only counted."""
        now = self._clock()
        key = (provider, remote)
        if key not in self._windows and len(self._windows) >= self._max_sources:
            key = (provider, OTHER_SOURCES)
        window = self._windows.get(key)
        if window is None or now - window.started >= self._window_s:
            if window is not None and window.suppressed:
                self._pending.append(self._summary(key, window))
            self._windows[key] = _Window(now, admitted=1)
            return True
        if window.admitted < self._burst:
            window.admitted += 1
            return True
        window.suppressed += 1
        return False

    def _summary(self, key: tuple[str, str], window: _Window) -> AuditEntry:
        provider, remote = key
        return AuditEntry(
            actor=f"provider:{provider}",
            event="webhook.rejected.suppressed",
            subject=f"webhook:{provider}",
            details={"remote": remote, "suppressed": window.suppressed, "window_s": self._window_s},
        )

    def expired(self) -> list[AuditEntry]:
        """Summary rows of the windows that are over (and forget those windows)."""
        now = self._clock()
        summaries, self._pending = self._pending, []
        for key, window in list(self._windows.items()):
            if now - window.started >= self._window_s:
                del self._windows[key]
                if window.suppressed:
                    summaries.append(self._summary(key, window))
        return summaries
