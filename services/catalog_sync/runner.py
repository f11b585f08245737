"""Runs reconciliations one at a time, and never more than needed: requests made while a run is
queued share the next run, which starts after all of them (so none of them can miss a change)."""

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class SyncRunner:
    def __init__(self, run: Callable[[str], Awaitable[object]]) -> None:
        self._run = run
        self._lock = asyncio.Lock()
        self._started = 0
        self._completed = 0

    async def run_after_now(self, trigger: str) -> None:
        """Return once a reconciliation that started after this call has finished."""
        wanted = self._started + 1
        async with self._lock:
            if self._completed >= wanted:
                return
            self._started += 1
            started = self._started
            await self._run(trigger)
            self._completed = started

    async def every(self, interval_s: float) -> None:
        """A run at once, then one per interval, forever (a failing run is reported, not fatal)."""
        while True:
            try:
                await self.run_after_now("schedule")
            except Exception:  # e.g. the database is down: the next tick tries again
                log.exception("catalog_sync_run_failed")
            await asyncio.sleep(interval_s)
