"""The pipeline end to end: post a workload to the gateway, watch entitlement events, check the result.

Latency is webhook POST (first delivery) → the ``entitlement.*`` CloudEvent it caused read back from
``billing.entitlements`` (``data.provider_event_id`` names the webhook event), both on this machine's clock.
"""

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from bench.resources import ResourceSampler
from bench.stack import BenchStack
from bench.stats import latency_summary_ms, rate
from bench.workload import Workload
from shared.db.models import ProcessedEvent, UserEntitlement


@dataclass(frozen=True)
class SeenEvent:
    ce_id: str
    event_type: str
    user_id: str
    purchase_reference: str
    webhook_event_id: str
    seen_at: float


@dataclass
class EventWatcher:
    """Reads the entitlements topic and the dead-letter topics of the run's namespace from the start."""

    stack: BenchStack
    events: list[SeenEvent] = field(default_factory=list)
    dead_letters: int = 0
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        topics = self.stack.topics
        dlqs = [topics.dead_letters_of(t) for t in (topics.webhooks_raw, topics.entitlement_updates)]
        self._consumer = AIOKafkaConsumer(
            topics.entitlements,
            *dlqs,
            bootstrap_servers=self.stack.settings.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer:
            await self._consumer.stop()

    async def _read(self) -> None:
        assert self._consumer is not None
        entitlements = self.stack.topics.entitlements
        while True:
            for tp, records in (await self._consumer.getmany(timeout_ms=100, max_records=5000)).items():
                now = time.time()
                if tp.topic != entitlements:
                    self.dead_letters += len(records)
                    continue
                for record in records:
                    event = orjson.loads(record.value or b"{}")
                    data = event.get("data", {})
                    self.events.append(
                        SeenEvent(
                            ce_id=event["id"],
                            event_type=event["type"],
                            user_id=data.get("user_id", ""),
                            purchase_reference=data.get("purchase_reference", ""),
                            webhook_event_id=str(data.get("provider_event_id", "")).split(":", 1)[0],
                            seen_at=now,
                        )
                    )

    def of_run(self, label: str) -> list[SeenEvent]:
        prefix = f"{label}-u"
        return [e for e in self.events if e.user_id.startswith(prefix)]


async def run_pipeline(
    stack: BenchStack,
    watcher: EventWatcher,
    workload: Workload,
    *,
    concurrency: int,
    rate_per_s: float | None = None,
    timeout_s: float = 600,
) -> dict[str, Any]:
    """Post every body (bounded concurrency, or paced at ``rate_per_s``), wait until all is applied."""
    posted_at: dict[str, float] = {}
    statuses: Counter[int] = Counter()
    url = f"{stack.gateway_url}/v1/webhooks/revenuecat"
    headers = {
        "Authorization": stack.settings.revenuecat.webhook_authorization.get_secret_value(),
        "Content-Type": "application/json",
    }
    sampler = ResourceSampler()
    sampler.start()
    started = time.perf_counter()
    wall_started = time.time()
    next_index = 0

    async def lane(http: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < len(workload.bodies):
            index = next_index
            next_index += 1
            if rate_per_s:
                delay = started + index / rate_per_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            posted_at.setdefault(workload.event_ids[index], time.time())
            async with http.post(url, data=workload.bodies[index], headers=headers) as response:
                await response.read()
                statuses[response.status] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(lane(http) for _ in range(concurrency)))
    accepted_s = time.perf_counter() - started
    await _wait_until_applied(stack, watcher, workload, timeout_s)
    done_s = time.perf_counter() - started
    resources = await sampler.stop()
    events = watcher.of_run(workload.label)
    latencies = [e.seen_at - posted_at[e.webhook_event_id] for e in events if e.webhook_event_id in posted_at]
    return {
        "webhooks": len(workload.bodies),
        "users": workload.users,
        "entitlements": len(workload.pairs),
        "concurrency": concurrency,
        "paced_at_per_s": rate_per_s,
        "http_status": {str(k): v for k, v in statuses.items()},
        "accepted_per_s": rate(statuses[200], accepted_s),
        "webhooks_completed_per_s": rate(len(workload.bodies), done_s),
        "entitlements_completed_per_s": rate(len(events), done_s),
        "seconds": round(done_s, 2),
        "started_at": wall_started,
        "latency": latency_summary_ms(latencies),
        "resources": resources,
        "correctness": await check_correctness(stack, watcher, workload),
    }


async def _wait_until_applied(
    stack: BenchStack, watcher: EventWatcher, workload: Workload, timeout_s: float
) -> None:
    """Every expected activation seen and every distinct update applied (or the timeout)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        seen_all = len(watcher.of_run(workload.label)) >= len(workload.pairs)
        if seen_all and await applied_updates(stack, workload.label) >= workload.applied_updates:
            return
        await asyncio.sleep(0.1)


async def applied_updates(stack: BenchStack, label: str) -> int:
    async with stack.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(ProcessedEvent.provider_event_id.like(f"%:{label}-u%"))
        )
    return int(count or 0)


async def check_correctness(stack: BenchStack, watcher: EventWatcher, workload: Workload) -> dict[str, Any]:
    """Every expected entitlement exists exactly once and was activated exactly once; no duplicate ids."""
    async with stack.sessions() as session:
        rows = (
            await session.execute(
                select(
                    UserEntitlement.user_id, UserEntitlement.purchase_reference, UserEntitlement.status
                ).where(UserEntitlement.user_id.like(f"{workload.label}-u%"))
            )
        ).all()
    stored = Counter((user, ref) for user, ref, _ in rows)
    events = watcher.of_run(workload.label)
    ids = Counter(e.ce_id for e in events)
    activations = Counter(
        (e.user_id, e.purchase_reference) for e in events if e.event_type.endswith("activated")
    )
    missing = workload.pairs - set(stored)
    checks = {
        "entitlements_missing": len(missing),
        "entitlements_unexpected": len(set(stored) - workload.pairs),
        "entitlements_duplicated": sum(1 for c in stored.values() if c > 1),
        "entitlements_not_active": sum(1 for _, _, status in rows if status != "active"),
        "activations_missing": len(workload.pairs - set(activations)),
        "activations_repeated": sum(1 for c in activations.values() if c > 1),
        "duplicate_cloudevent_ids": sum(1 for c in ids.values() if c > 1),
        "updates_applied": await applied_updates(stack, workload.label),
        "updates_expected": workload.applied_updates,
        "dead_letters": watcher.dead_letters,
    }
    checks["ok"] = (
        checks["updates_applied"] == checks["updates_expected"]
        and checks["dead_letters"] == 0
        and all(
            checks[k] == 0
            for k in (
                "entitlements_missing",
                "entitlements_unexpected",
                "entitlements_duplicated",
                "entitlements_not_active",
                "activations_missing",
                "activations_repeated",
                "duplicate_cloudevent_ids",
            )
        )
    )
    return checks
