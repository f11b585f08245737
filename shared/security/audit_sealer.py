"""The audit sealer: chains unsealed audit rows in id order and anchors the head on Kafka.

Runs as a background task of the entitlement worker; every replica runs one, the sealer try-lock
lets one of them work at a time. Nothing on a request path waits for it: until it has sealed a row,
that row is only protected by its digests and the append-only trigger (the window is
``audit_seal_interval_s`` plus one anchor publication).
"""

import asyncio
import time

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.unit_of_work import unit_of_work
from shared.domain.audit import ChainHead
from shared.messaging.audit_anchors import publish_anchor
from shared.security.audit_chain import seal_pending

log = structlog.get_logger(__name__)


class AuditSealer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        anchors_topic: str,
        *,
        interval_s: float,
        republish_s: float,
        batch_size: int = 2000,
    ) -> None:
        self._sessions = sessions
        self._producer = producer
        self._topic = anchors_topic
        self._interval_s = interval_s
        self._republish_s = republish_s
        self._batch_size = batch_size
        self._published: ChainHead | None = None
        self._published_at = 0.0

    async def seal_once(self) -> int:
        """Seal what is pending (one transaction) and anchor the head if due; how many rows it sealed."""
        async with unit_of_work(self._sessions) as session:
            sealed = await seal_pending(session, self._batch_size)
        if sealed is None:
            return 0  # another replica is sealing
        head, count = sealed
        due = time.monotonic() - self._published_at >= self._republish_s
        if head.position > 0 and (head != self._published or due):
            await publish_anchor(self._producer, self._topic, head)
            self._published, self._published_at = head, time.monotonic()
        return count

    async def run_forever(self) -> None:
        while True:
            try:
                if await self.seal_once() >= self._batch_size:
                    continue  # a backlog: keep going without a pause
            except Exception:
                # Database or broker away: the rows stay unsealed and are sealed once it is back.
                log.exception("audit_seal_failed")
            await asyncio.sleep(self._interval_s)
