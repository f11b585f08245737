"""``EntitlementCache``: a local answer to "may this user use this feature?", kept current by the
entitlement CloudEvents, that refuses to answer when it cannot know it is current.

Start-up (also after a restart: nothing is stored, every start bootstraps again):
1. read the topic's end offsets (the *fence*);
2. read each tracked user's entitlements and the packs' features from the API;
3. replay the topic from the fence. An event published after the fence may already be in what the
   API answered; each event carries the entitlement's whole state and one user's events keep their
   order on one partition, so replaying them in order ends in the current state, and the cache does
   not answer until it has reached the end offsets read *after* the bootstrap (``catching_up``).

Then it follows the topic. ``is_allowed`` is a dict lookup plus a check of the last end-offset probe
the consumer passed (``freshness.py``); it raises ``CacheNotReadyError`` beyond the bounds.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError, OffsetOutOfRangeError

from hometryon_billing.cache.events import EntitlementEvent, NotAnEntitlementEvent, parse_event
from hometryon_billing.cache.freshness import Bounds, Lag, Phase, Probe, refusal
from hometryon_billing.cache.state import CacheState, Outcome, UserState
from hometryon_billing.client import AsyncBillingClient
from hometryon_billing.errors import BillingApiError, CacheNotReadyError, UnknownUserError

log = logging.getLogger(__name__)
DEFAULT_TOPIC = "billing.entitlements"
# Told of every event the cache applied, with the record's Kafka timestamp (epoch seconds): for metrics.
AppliedHook = Callable[[EntitlementEvent, float], None]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # granted | not_granted | unknown_user | a CacheNotReadyError reason


class EntitlementCache:
    def __init__(
        self,
        client: AsyncBillingClient,
        users: Iterable[str],
        *,
        bootstrap_servers: str,
        topic: str = DEFAULT_TOPIC,
        bounds: Bounds | None = None,
        poll_ms: int = 100,
        probe_timeout_s: float = 5.0,
        bootstrap_concurrency: int = 8,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        on_applied: AppliedHook | None = None,
    ) -> None:
        self._client = client
        self._users = frozenset(users)
        self._servers = bootstrap_servers
        self._topic = topic
        self._bounds = bounds or Bounds()
        self._poll_ms = poll_ms
        self._probe_timeout_s = probe_timeout_s
        self._bootstrap_concurrency = bootstrap_concurrency  # entitlement reads in flight
        self._clock = clock
        self._wall_clock = wall_clock
        self._on_applied = on_applied
        self._state = CacheState()
        self._phase = Phase.NOT_STARTED
        self._error: str | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._probe: Probe | None = None
        self._positions: dict[int, int] = {}
        self._current_as_of: float | None = None
        self._last_event_at: float | None = None
        self._behind_total = 0
        self.applied_events = 0
        self.skipped_events = 0

    # -- the local check (no I/O) ------------------------------------------------------------

    def is_allowed(self, user_id: str, feature: str) -> bool:
        """Whether ``user_id`` may use ``feature`` now; raises ``CacheNotReadyError`` when the cache
        is not known current within its bounds, ``UnknownUserError`` for a user it does not follow."""
        as_of = self._current_as_of
        if (
            self._phase is not Phase.LIVE
            or as_of is None
            or self._clock() - as_of > self._bounds.max_staleness_s
            or self._behind_total > self._bounds.max_records_behind
        ):
            reason, detail = refusal(self.lag(), self._bounds) or ("silent", "bounds exceeded")
            raise CacheNotReadyError(reason, detail)
        user = self._state.users.get(user_id)
        if user is None:
            raise UnknownUserError(user_id)
        return self._state.allowed(user, feature, self._wall_clock())

    def check(self, user_id: str, feature: str) -> Decision:
        """``is_allowed`` as a decision that never raises: refused answers deny, with the reason."""
        try:
            allowed = self.is_allowed(user_id, feature)
        except CacheNotReadyError as exc:
            return Decision(False, exc.reason)
        except UnknownUserError:
            return Decision(False, "unknown_user")
        return Decision(allowed, "granted" if allowed else "not_granted")

    def lag(self) -> Lag:
        now = self._clock()
        probe = self._probe
        return Lag(
            phase=self._phase,
            records_behind=probe.behind(self._positions) if probe else {},
            current_as_of_age_s=None if self._current_as_of is None else now - self._current_as_of,
            last_event_age_s=None if self._last_event_at is None else now - self._last_event_at,
            error=self._error,
        )

    def user_state(self, user_id: str) -> UserState | None:
        return self._state.users.get(user_id)

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bootstrap and start following; ``wait_current()`` waits until the cache may answer."""
        self._consumer = AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._servers,
            group_id=None,  # every cache reads every partition, from its own fence
            enable_auto_commit=False,
            auto_offset_reset="none",  # a position that fell out of retention must not be skipped
        )
        await self._consumer.start()
        try:
            await self._bootstrap()
        except BaseException:
            await self._consumer.stop()
            raise
        self._task = asyncio.create_task(self._follow(), name="entitlement-cache")
        self._task.add_done_callback(self._followed)

    async def wait_current(self, timeout_s: float = 30.0) -> None:
        deadline = self._clock() + timeout_s
        while refusal(self.lag(), self._bounds) is not None:
            if self._task is not None and self._task.done():
                self._task.result()
            if self._clock() > deadline:
                raise CacheNotReadyError(*(refusal(self.lag(), self._bounds) or ("silent", "")))
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._phase, self._error = Phase.STOPPED, "the cache was stopped"
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def __aenter__(self) -> "EntitlementCache":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- inside ------------------------------------------------------------------------------

    async def _bootstrap(self) -> None:
        consumer = self._require_consumer()
        self._set_phase(Phase.CATCHING_UP, None)
        self._current_as_of, self._probe = None, None
        partitions = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        fence = await consumer.end_offsets(partitions)
        state = CacheState()
        gate = asyncio.Semaphore(self._bootstrap_concurrency)

        async def load(user_id: str) -> None:
            async with gate:
                answer = await self._client.entitlements(user_id)
            state.load_user(user_id, answer.entitlements)

        state.pack_features = {str(p.id): frozenset(p.features) for p in await self._client.list_packs()}
        await asyncio.gather(*(load(user) for user in self._users))
        await self._load_packs(
            state, {h.pack_id for u in state.users.values() for h in u.entitlements.values()}
        )
        for user in state.users.values():
            state.derive(user)
        self._state = state
        for tp in partitions:
            consumer.seek(tp, fence[tp])
        self._positions = {tp.partition: fence[tp] for tp in partitions}

    async def _load_packs(self, state: CacheState, pack_ids: set[str]) -> None:
        """Packs no longer listed (inactive) still grant their features to owners: read them by id."""
        for pack_id in state.missing_packs(pack_ids):
            pack = await self._client.get_pack(pack_id)
            state.pack_features[pack_id] = frozenset(pack.features)

    async def _follow(self) -> None:
        backoff, bootstrap_again = 0.1, False
        while True:
            try:
                if bootstrap_again:
                    await self._bootstrap()
                    bootstrap_again = False
                await self._round()
                backoff = 0.1
            except OffsetOutOfRangeError as exc:
                # Events we never read were deleted: only a fresh bootstrap knows the state again.
                log.warning("entitlement cache fell out of the topic's retention; bootstrapping again")
                self._set_phase(Phase.CATCHING_UP, f"out of retention: {exc}")
                bootstrap_again = True
            except (KafkaError, BillingApiError, httpx.HTTPError, OSError, TimeoutError) as exc:
                # Transient: refuse to answer (the phase says why), back off, try again.
                self._set_phase(Phase.DISCONNECTED, f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _round(self) -> None:
        consumer = self._require_consumer()
        batches = await consumer.getmany(timeout_ms=self._poll_ms)
        try:
            for tp, records in batches.items():
                for record in records:
                    await self._apply(record.value, record.timestamp / 1000)
                    self._positions[tp.partition] = record.offset + 1
        except BaseException:
            # The consumer has moved past the whole batch: rewind what was not applied, lose nothing.
            for tp, records in batches.items():
                if records and self._positions.get(tp.partition, 0) <= records[-1].offset:
                    consumer.seek(tp, max(self._positions.get(tp.partition, 0), records[0].offset))
            raise
        for tp in consumer.assignment():
            self._positions[tp.partition] = await consumer.position(tp)
        if self._probe is None or self._probe.reached(self._positions):
            if self._probe is not None:
                self._current_as_of = self._probe.at
                self._set_phase(Phase.LIVE, None)
            await self._new_probe(consumer)
        self._behind_total = sum(self._probe.behind(self._positions).values()) if self._probe else 0

    async def _new_probe(self, consumer: AIOKafkaConsumer) -> None:
        at = self._clock()
        ends = await asyncio.wait_for(
            consumer.end_offsets(list(consumer.assignment())), self._probe_timeout_s
        )
        self._probe = Probe(at, {tp.partition: end for tp, end in ends.items()})
        if self._probe.reached(self._positions):  # idle topic: current as of this probe already
            self._current_as_of = at
            self._set_phase(Phase.LIVE, None)

    def _set_phase(self, phase: Phase, error: str | None) -> None:
        if self._phase is not Phase.STOPPED:  # stop() is final
            self._phase, self._error = phase, error

    def _followed(self, task: "asyncio.Task[None]") -> None:
        """A follower that died of a bug must not leave a cache that looks live."""
        if not task.cancelled() and task.exception() is not None:
            self._set_phase(Phase.DISCONNECTED, f"follower failed: {task.exception()!r}")

    async def _apply(self, value: bytes | None, published_at: float) -> None:
        try:
            event = parse_event(value)
        except NotAnEntitlementEvent as exc:
            self.skipped_events += 1
            log.warning("entitlement cache skipped a record: %s", exc)
            return
        if event.entitlement.user_id not in self._state.users:
            return
        await self._load_packs(self._state, {str(event.entitlement.pack_id)})
        if self._state.apply(event.id, event.time, event.entitlement) is Outcome.APPLIED:
            self.applied_events += 1
            self._last_event_at = self._clock()
            if self._on_applied is not None:
                self._on_applied(event, published_at)

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise CacheNotReadyError("not_started", "call start() first")
        return self._consumer
