"""Audit appends from many concurrent requests, written in shared transactions.

Every append takes the audit-chain lock until its transaction commits, so one transaction per
webhook serialised the whole gateway behind that lock (the benchmark's bottleneck). Here requests
queue their entries; one writer appends whatever has queued in one transaction — one lock, one
commit — and then releases every waiting request. A request still answers only after its row is
committed, so no audit row is lost to a crash after the answer.
"""

import asyncio
import contextlib

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.security.audit import AuditEntry, append_audit

log = structlog.get_logger(__name__)


class AuditBatchWriter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = 200) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[AuditEntry, asyncio.Future[None]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def append(self, entry: AuditEntry) -> None:
        """Return once ``entry`` is committed in the chain (raises if its batch failed)."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        committed = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((entry, committed))
        await committed

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self._sessions() as session, session.begin():
                    for entry, _ in batch:
                        await append_audit(session, entry)
            except Exception as exc:
                log.exception("audit_batch_failed", size=len(batch))
                for _, committed in batch:
                    if not committed.done():
                        committed.set_exception(exc)
            else:
                for _, committed in batch:
                    if not committed.done():
                        committed.set_result(None)
