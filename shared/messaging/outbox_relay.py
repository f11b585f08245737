"""Publishes outbox rows to Kafka in commit order, after the transaction that wrote them.

Each publish round runs in one transaction holding ``pg_try_advisory_xact_lock``: one relay
publishes at a time, and whatever fails (Kafka, Postgres, Redis, a bug) the lock goes with the
transaction, so no idle connection can keep it and stall every relay.

A row that cannot be published (its topic does not exist, the broker refused it) gets
``attempts``/``last_error`` and parks its key with a backoff; later rows of that key wait behind
it (per-user order), rows of every other key keep flowing.

No event is sent twice. Every round draws a number from the ``outbox_relay_rounds`` sequence
(nextval outlives a rolled-back round). A relay that cannot vouch for the round before its own —
it has just started, its last commit failed, or the number it drew is not its previous one plus one,
so another relay ran in between — first reads back the tails of the pending rows' topics
(shared/messaging/published_tail.py) and marks the rows it finds there instead of sending them again.

Feature caches are invalidated before an event becomes visible (shared/entitlement_cache.py).
Redis being down does not hold events back: the relay publishes anyway, marks the cache stale,
and once Redis answers again bumps the catalog version, which outdates every cached entry, so no
user revoked meanwhile is still served as allowed. A relay starts stale, since its predecessor
may have died with invalidations pending.
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import orjson
import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.models import Outbox
from shared.db.unit_of_work import unit_of_work
from shared.domain.cloudevents import CLOUDEVENT_CONTENT_TYPE
from shared.messaging.failures import Failure, classify_failure
from shared.messaging.published_tail import ids_on_topic_tails, ids_on_topics_since
from shared.observability.metrics import OUTBOX_PUBLISHED

log = structlog.get_logger(__name__)
RELAY_LOCK_KEY = 0x6269_6C6C  # "bill": one relay per database
CACHE_RECOVERY_INTERVAL_S = 1.0
PARK_INITIAL_S = 0.5
FAILED_SEND_CLOCK_MARGIN = timedelta(minutes=1)
# A broker blip passes soon, so its rows are retried often; a row that fails for itself (its topic
# is gone) is retried rarely, since each try may hold a round for up to ``topic_wait_s``.
PARK_MAX_S = {Failure.TRANSIENT: 5.0, Failure.PERMANENT: 300.0, Failure.UNKNOWN: 300.0}


class CacheInvalidation(Protocol):
    """What the relay needs of the feature cache (``FeatureCache`` is one)."""

    async def invalidate_for_outbox(self, rows: Sequence[Outbox]) -> None: ...

    async def invalidate_catalog(self) -> None: ...


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        cache: CacheInvalidation,
        *,
        kafka_bootstrap: str,
        batch_size: int,
        idle_interval_s: float,
        topic_wait_s: float,
    ) -> None:
        self._sessions = sessions
        self._producer = producer
        self._kafka_bootstrap = kafka_bootstrap
        self._last_round: int | None = None  # the round number this relay drew last
        self._last_round_committed = False
        self._cache = cache
        self._cache_stale = True
        self._next_cache_recovery = 0.0  # monotonic time of the next try while the cache is stale
        self._batch_size = batch_size
        self._idle_interval_s = idle_interval_s
        self._topic_wait_s = topic_wait_s
        self._wake = asyncio.Event()
        self._parked_until: dict[str, float] = {}  # key -> monotonic time its head row is retried
        self._failures: dict[str, int] = {}  # key -> consecutive failures of its head row

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they go out without waiting a poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        """Publish rounds forever; a failed round (database or broker outage) is retried."""
        while True:
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox_relay_failed")
                await asyncio.sleep(1.0)
                continue
            if published < self._batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_interval_s)

    async def publish_pending(self) -> int:
        """One round: publish up to ``batch_size`` rows if this relay holds the lock; returns how many."""
        async with unit_of_work(self._sessions) as session:
            leader = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RELAY_LOCK_KEY})
            if not leader:
                return 0
            vouched = await self._start_round(session)
            rows = await self._pending_rows(session)
            if not rows:
                await self._recover_stale_cache()
                self._last_round_committed = True
                return 0
            await self._invalidate_caches(rows)
            found = [] if vouched else await self._found_on_topics(rows)
            found += await self._found_after_failed_sends([r for r in rows if r.attempts and r not in found])
            found_ids = {row.id for row in found}
            to_send = [row for row in rows if row.id not in found_ids]
            published, failed = await self._publish_in_key_order(to_send)
            if published or found:
                await session.execute(
                    update(Outbox)
                    .where(Outbox.id.in_([row.id for row in [*found, *published]]))
                    .values(published_at=datetime.now(UTC), attempts=Outbox.attempts + 1)
                )
            for row, error in failed:
                await session.execute(
                    update(Outbox)
                    .where(Outbox.id == row.id)
                    .values(attempts=Outbox.attempts + 1, last_error=_describe(error)[:2000])
                )
        # A send that failed may still have reached the broker (its ack was lost): check next round.
        self._last_round_committed = not failed
        self._record_outcomes(published, failed)
        OUTBOX_PUBLISHED.inc(len(published))
        return len(published)

    async def _start_round(self, session: AsyncSession) -> bool:
        """Draw this round's number; True if the previous round is known to be ours and committed."""
        number = await session.scalar(text("SELECT nextval('outbox_relay_rounds')"))
        follows_mine = self._last_round is not None and number == self._last_round + 1
        vouched = self._last_round_committed and follows_mine
        self._last_round, self._last_round_committed = number, False
        return vouched

    async def _found_on_topics(self, rows: Sequence[Outbox]) -> list[Outbox]:
        """Pending rows a round nobody vouches for has already put on their topic."""
        # One such round published at most one batch, of this relay's size or a peer's.
        partitions = [
            TopicPartition(topic, partition)
            for topic in {row.topic for row in rows}
            for partition in await self._partitions_if_any(topic)  # an unknown topic holds nothing we sent
        ]
        on_topics = await ids_on_topic_tails(self._kafka_bootstrap, partitions, tail=2 * self._batch_size)
        found = [row for row in rows if str(row.id) in on_topics]
        if found:
            log.warning("outbox_rows_found_already_published", rows=len(found), first_seq=found[0].seq)
        return found

    async def _found_after_failed_sends(self, rows: Sequence[Outbox]) -> list[Outbox]:
        """Rows whose earlier send failed (``attempts`` > 0, still unpublished) but reached the topic.

        A lost ack looks like a failure although the broker wrote the event; the row then waits its
        park time while other events follow it on the partition, so the tail check cannot find it.
        The broker stamps each event with its send time, which is after the row's creation: read from
        then (less a margin for the database's and this host's clocks).
        """
        if not rows:
            return []
        partitions = [
            TopicPartition(topic, partition)
            for topic in {row.topic for row in rows}
            for partition in await self._partitions_if_any(topic)
        ]
        since = min(row.created_at for row in rows) - FAILED_SEND_CLOCK_MARGIN
        on_topics = await ids_on_topics_since(
            self._kafka_bootstrap, partitions, int(since.timestamp() * 1000)
        )
        found = [row for row in rows if str(row.id) in on_topics]
        if found:
            log.warning("outbox_failed_sends_found_published", rows=len(found), first_seq=found[0].seq)
        return found

    async def _partitions_if_any(self, topic: str) -> set[int]:
        """The topic's partitions; none if it does not appear within ``topic_wait_s``."""
        try:  # bounded: an unknown topic would otherwise hold the round for the client's timeout
            partitions: set[int] = await asyncio.wait_for(
                self._producer.partitions_for(topic), self._topic_wait_s
            )
        except TimeoutError:
            return set()
        return partitions

    async def _pending_rows(self, session: AsyncSession) -> Sequence[Outbox]:
        now = time.monotonic()
        parked = [key for key, until in self._parked_until.items() if until > now]
        query = select(Outbox).where(Outbox.published_at.is_(None))
        if parked:
            query = query.where(Outbox.key.not_in(parked))
        result = await session.execute(query.order_by(Outbox.seq).limit(self._batch_size))
        return result.scalars().all()

    async def _recover_stale_cache(self, *, throttled: bool = True) -> bool:
        """Outdate every cached entry after missed invalidations; True once the cache is current."""
        if not self._cache_stale:
            return True
        if throttled and time.monotonic() < self._next_cache_recovery:
            return False  # idle, and Redis was down a moment ago: try at most once a second
        try:
            await self._cache.invalidate_catalog()
        except Exception as exc:
            self._next_cache_recovery = time.monotonic() + CACHE_RECOVERY_INTERVAL_S
            log.warning("feature_cache_still_unreachable", error=_describe(exc)[:300])
            return False
        self._cache_stale = False
        log.info("feature_cache_outdated_after_missed_invalidations")
        return True

    async def _invalidate_caches(self, rows: Sequence[Outbox]) -> None:
        # Events are about to become visible: always try, so a blip costs no stale read.
        if not await self._recover_stale_cache(throttled=False):
            return  # Redis still down: the recovery bump will cover these rows too
        try:
            await self._cache.invalidate_for_outbox(rows)
        except Exception as exc:
            self._cache_stale = True
            log.warning("feature_cache_invalidation_failed", error=_describe(exc)[:300])

    async def _publish_in_key_order(
        self, rows: Sequence[Outbox]
    ) -> tuple[list[Outbox], list[tuple[Outbox, BaseException]]]:
        """Waves of one row per key, so a row is sent only after the key's previous row was acked."""
        queues: dict[str, deque[Outbox]] = {}
        for row in rows:
            queues.setdefault(row.key, deque()).append(row)
        published: list[Outbox] = []
        failed: list[tuple[Outbox, BaseException]] = []
        while queues:
            wave = [queue.popleft() for queue in queues.values()]
            results = await asyncio.gather(*(self._publish(row) for row in wave), return_exceptions=True)
            for row, result in zip(wave, results, strict=True):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                if isinstance(result, BaseException):
                    failed.append((row, result))
                    del queues[row.key]  # later rows of this key wait behind the failed one
                else:
                    published.append(row)
            queues = {key: queue for key, queue in queues.items() if queue}
        return published, failed

    async def _publish(self, row: Outbox) -> None:
        if not await self._partitions_if_any(row.topic):
            raise LookupError(f"topic {row.topic!r} not found within {self._topic_wait_s}s")
        delivery = await self._producer.send(
            row.topic,
            value=orjson.dumps(row.payload),
            key=row.key.encode(),
            headers=[
                ("content-type", CLOUDEVENT_CONTENT_TYPE.encode()),
                ("ce_id", str(row.id).encode()),
                ("ce_type", row.event_type.encode()),
            ],
        )
        await delivery

    def _record_outcomes(self, published: list[Outbox], failed: list[tuple[Outbox, BaseException]]) -> None:
        for row in published:
            self._failures.pop(row.key, None)
            self._parked_until.pop(row.key, None)
        for row, error in failed:
            failures = self._failures.get(row.key, 0) + 1
            self._failures[row.key] = failures
            delay = min(PARK_MAX_S[classify_failure(error)], PARK_INITIAL_S * 2 ** (failures - 1))
            self._parked_until[row.key] = time.monotonic() + delay
            log.warning(
                "outbox_row_failed",
                seq=row.seq,
                topic=row.topic,
                key=row.key,
                failures=failures,
                retry_in_s=delay,
                error=_describe(error)[:300],
            )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
