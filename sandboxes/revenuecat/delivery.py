"""Webhook delivery the way RevenueCat does it: POST, only 200 counts, 5 retries on a fixed schedule.

For tests it can also hold events and flush them later (optionally shuffled), deliver duplicates,
and send one event to another URL (e.g. a proxy that fails first).
"""

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import structlog

from sandboxes.revenuecat.config import SandboxConfig
from sandboxes.revenuecat.customers import now_ms

log = structlog.get_logger(__name__)


@dataclass
class Attempt:
    at_ms: int
    status: int | None  # None: no answer (connection error or timeout)
    error: str | None = None


@dataclass
class Delivery:
    """One copy of one event on its way to one URL; duplicates are separate deliveries."""

    event_id: str
    event_type: str
    url: str
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"  # pending | held | delivered | failed

    def view(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "url": self.url,
            "state": self.state,
            "attempts": [a.__dict__ for a in self.attempts],
        }


@dataclass(frozen=True)
class DeliveryOptions:
    hold: bool = False
    duplicates: int = 0
    url: str | None = None


class WebhookSender:
    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self.deliveries: list[Delivery] = []
        self._held: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._config.delivery_timeout_s)
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def send(self, webhook: dict[str, Any], options: DeliveryOptions) -> list[Delivery]:
        """Queue the event (and its duplicates); delivery starts at once unless held."""
        body = orjson.dumps(webhook)
        event = webhook["event"]
        copies = [
            Delivery(event["id"], event["type"], options.url or self._config.webhook_url, body)
            for _ in range(1 + options.duplicates)
        ]
        self.deliveries.extend(copies)
        for delivery in copies:
            if options.hold:
                delivery.state = "held"
                self._held.append(delivery)
            else:
                self._spawn(delivery)
        return copies

    async def flush(self, shuffle: bool, seed: int | None) -> list[Delivery]:
        """Deliver held events in order (or shuffled), each first attempt finished before the next."""
        held, self._held = self._held, []
        if shuffle:
            random.Random(seed).shuffle(held)
        for delivery in held:
            delivery.state = "pending"
            if not await self._attempt(delivery):
                self._spawn(delivery, first_attempt_done=True)
        return held

    def _spawn(self, delivery: Delivery, *, first_attempt_done: bool = False) -> None:
        task = asyncio.create_task(self._deliver(delivery, first_attempt_done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery, first_attempt_done: bool) -> None:
        if not first_attempt_done and await self._attempt(delivery):
            return
        for delay_s in self._config.retry_delays_s():
            await asyncio.sleep(delay_s)
            if await self._attempt(delivery):
                return
        delivery.state = "failed"
        log.warning("webhook_given_up", event_id=delivery.event_id, attempts=len(delivery.attempts))

    async def _attempt(self, delivery: Delivery) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if self._config.webhook_authorization:
            headers["Authorization"] = self._config.webhook_authorization
        try:
            async with self._session.post(delivery.url, data=delivery.body, headers=headers) as response:
                await response.read()
                delivery.attempts.append(Attempt(now_ms(), response.status))
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.attempts.append(Attempt(now_ms(), None, type(exc).__name__))
            return False
        if delivery.attempts[-1].status == 200:  # RevenueCat: only 200 is success
            delivery.state = "delivered"
            return True
        return False
