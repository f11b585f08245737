"""The gateway's audit rows: buffered, written many per statement, never the reason for a 5xx.

A request queues its row and waits (at most ``first_attempt_wait_s``) for the first attempt to
write it, so normally the row is committed before the answer; while writes are failing it does not
wait at all. Rows are inserted unsealed, without any
lock (shared/db/audit_log.py), so nothing waits on the worker. If the write fails (Postgres down,
a privilege revoked) the rows stay buffered and are retried with back-off, and the request answers
as it would have: an accepted webhook is already in Kafka and must get its 200. The buffer is
bounded (``max_buffered``); a row that does not fit is dropped and counted in
``billing_audit_rows_dropped_total`` — a bounded audit gap during a long outage, chosen over a
gateway that fails accepted webhooks or grows without bound (docs/decisions/0010).
"""

import asyncio
import contextlib
from collections import deque
from typing import Any

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.audit_log import append_audit_rows
from shared.db.unit_of_work import unit_of_work
from shared.domain.audit import AuditEntry, audit_row_values
from shared.security.audit_rejections import RejectionLimiter

log = structlog.get_logger(__name__)

AUDIT_ROWS_DROPPED = Counter(
    "billing_audit_rows_dropped_total", "Gateway audit rows dropped because the retry buffer was full"
)
AUDIT_ROWS_BUFFERED = Gauge("billing_audit_rows_buffered", "Gateway audit rows waiting to be written")
AUDIT_WRITE_FAILURES = Counter("billing_audit_write_failures_total", "Failed gateway audit batch writes")

MIN_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


class AuditBatchWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 500,
        max_buffered: int = 10_000,
        first_attempt_wait_s: float = 1.0,
        rejected_burst: int = 100,
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._max_buffered = max_buffered
        self._wait_s = first_attempt_wait_s
        self._buffer: deque[tuple[dict[str, Any], asyncio.Future[None] | None]] = deque()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()  # set while nothing is buffered
        self._failing = False  # the last write failed: requests do not wait for the retry
        self._writer: asyncio.Task[None] | None = None
        self.rejections = RejectionLimiter(rejected_burst)

    async def append(self, entry: AuditEntry) -> None:
        """Queue ``entry``; return once its first write attempt ended (or after the wait). Never raises."""
        done = self._enqueue(audit_row_values(entry), waited=not self._failing)
        if done is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), self._wait_s)

    async def append_rejection(self, provider: str, remote: str, entry: AuditEntry) -> None:
        """Like ``append`` for a rejected webhook, within the per-source burst (else only counted)."""
        if self.rejections.admit(provider, remote):
            await self.append(entry)

    def _enqueue(self, row: dict[str, Any], *, waited: bool) -> asyncio.Future[None] | None:
        self._ensure_writer()
        if len(self._buffer) >= self._max_buffered:
            AUDIT_ROWS_DROPPED.inc()
            log.warning("audit_row_dropped", buffered=len(self._buffer), audit_event=row["event"])
            return None
        done = asyncio.get_running_loop().create_future() if waited else None
        self._buffer.append((row, done))
        self._drained.clear()
        AUDIT_ROWS_BUFFERED.set(len(self._buffer))
        self._wake.set()
        return done

    def _ensure_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever())

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    async def close(self, flush_timeout_s: float = 5.0) -> None:
        """Try to write what is buffered (bounded wait), then stop the writer."""
        if self._buffer and self._writer is not None and not self._writer.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), flush_timeout_s)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self._buffer:
            log.warning("audit_rows_unwritten_at_shutdown", count=len(self._buffer))

    async def _write_forever(self) -> None:
        backoff = MIN_BACKOFF_S
        while True:
            for summary in self.rejections.expired():
                self._enqueue(audit_row_values(summary), waited=False)
            if not self._buffer:
                self._drained.set()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)  # 1 s: rejection windows
                continue
            batch = [self._buffer.popleft() for _ in range(min(self._max_batch, len(self._buffer)))]
            try:
                async with unit_of_work(self._sessions) as session:
                    await append_audit_rows(session, [row for row, _ in batch])
            except Exception as exc:
                AUDIT_WRITE_FAILURES.inc()
                self._failing = True
                # The driver's message only: the statement's parameters are the rows themselves.
                reason = str(getattr(exc, "orig", exc))[:300]
                log.warning("audit_write_failed", size=len(batch), error=type(exc).__name__, reason=reason)
                self._buffer.extendleft(reversed(batch))  # keep them, in order, for the retry
                self._release(batch)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff, self._failing = MIN_BACKOFF_S, False
            AUDIT_ROWS_BUFFERED.set(len(self._buffer))
            self._release(batch)

    @staticmethod
    def _release(batch: list[tuple[dict[str, Any], asyncio.Future[None] | None]]) -> None:
        for _, done in batch:
            if done is not None and not done.done():
                done.set_result(None)
