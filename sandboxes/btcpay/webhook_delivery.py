"""Signed webhook deliveries as BTCPay sends them: in order per webhook, HMAC in ``BTCPay-Sig``,
automatic redelivery after 10 s, 1 min and six times 10 min (scaled down by ``retry_scale``).

A redelivery is a new delivery with ``isRedelivery`` and the first attempt's ``originalDeliveryId``.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandboxes.btcpay.state import new_id, now

# BTCPay's automatic redelivery schedule, in seconds.
REDELIVERY_DELAYS_S = (10.0, 60.0, 600.0, 600.0, 600.0, 600.0, 600.0, 600.0)


@dataclass
class Webhook:
    id: str
    store_id: str
    url: str
    secret: str
    enabled: bool = True
    automatic_redelivery: bool = True
    everything: bool = True
    specific_events: list[str] = field(default_factory=list)

    def wants(self, event_type: str) -> bool:
        return self.enabled and (self.everything or event_type in self.specific_events)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "enabled": self.enabled,
            "automaticRedelivery": self.automatic_redelivery,
            "url": self.url,
            "authorizedEvents": {"everything": self.everything, "specificEvents": self.specific_events},
        }


@dataclass
class Delivery:
    id: str
    webhook_id: str
    original_delivery_id: str
    attempt: int
    event: dict[str, Any]
    timestamp: int
    status: str = "Pending"
    http_code: int | None = None
    error_message: str | None = None

    def body(self) -> bytes:
        return json.dumps(self.event, separators=(",", ":")).encode()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": self.timestamp,
            "httpCode": self.http_code,
            "errorMessage": self.error_message,
            "status": self.status,
        }


@dataclass
class DeliveryFaults:
    """Control knobs: ``fail_next`` attempts fail without sending; ``drop`` sends nothing at all."""

    fail_next: int = 0
    drop: bool = False


class WebhookSender:
    def __init__(self, http: httpx.AsyncClient, retry_scale: float) -> None:
        self.webhooks: dict[str, Webhook] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.faults = DeliveryFaults()
        self._http = http
        self._retry_scale = retry_scale
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, webhook: Webhook) -> None:
        self.webhooks[webhook.id] = webhook
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._queues[webhook.id] = queue
        self._spawn(self._send_in_order(webhook.id, queue))

    def remove(self, webhook_id: str) -> None:
        self.webhooks.pop(webhook_id, None)

    def publish(self, store_id: str, event_type: str, fields: dict[str, Any]) -> None:
        """Queue one delivery of the event to every webhook of the store that wants it."""
        for webhook in list(self.webhooks.values()):
            if webhook.store_id == store_id and webhook.wants(event_type):
                delivery_id = new_id()
                self._enqueue(webhook, delivery_id, delivery_id, 0, {"type": event_type, **fields})

    def redeliver(self, delivery_id: str) -> str:
        """A new delivery of the same event; returns its id."""
        first = self.deliveries[delivery_id]
        webhook = self.webhooks[first.webhook_id]
        fields = {k: v for k, v in first.event.items() if k not in _ENVELOPE}
        return self._enqueue(webhook, new_id(), first.original_delivery_id, first.attempt + 1, fields)

    def _enqueue(
        self, webhook: Webhook, delivery_id: str, original_id: str, attempt: int, fields: dict[str, Any]
    ) -> str:
        event = {
            "deliveryId": delivery_id,
            "webhookId": webhook.id,
            "originalDeliveryId": original_id,
            "isRedelivery": delivery_id != original_id,
            "timestamp": now(),
            **fields,
        }
        delivery = Delivery(delivery_id, webhook.id, original_id, attempt, event, event["timestamp"])
        self.deliveries[delivery_id] = delivery
        self._queues[webhook.id].put_nowait(delivery)
        return delivery_id

    async def _send_in_order(self, webhook_id: str, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await queue.get()
            webhook = self.webhooks.get(webhook_id)
            if webhook is None:
                return
            if await self._attempt(webhook, delivery):
                continue
            if (
                webhook.automatic_redelivery
                and not self.faults.drop
                and delivery.attempt < len(REDELIVERY_DELAYS_S)
            ):
                self._spawn(self._redeliver_later(delivery.id, REDELIVERY_DELAYS_S[delivery.attempt]))

    async def _attempt(self, webhook: Webhook, delivery: Delivery) -> bool:
        if self.faults.drop:
            delivery.status, delivery.error_message = "Failed", "sandbox: delivery dropped"
            return False
        if self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            delivery.status, delivery.error_message = "Failed", "sandbox: delivery broken"
            return False
        body = delivery.body()
        signature = hmac.new(webhook.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "BTCPay-Sig": f"sha256={signature}",
            "User-Agent": "BTCPayServer-Sandbox",
        }
        try:
            response = await self._http.post(webhook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            delivery.status, delivery.error_message = "Failed", f"{type(exc).__name__}: {exc}"
            return False
        delivery.http_code = response.status_code
        if 200 <= response.status_code < 300:
            delivery.status = "HttpSuccess"
            return True
        delivery.status, delivery.error_message = "HttpError", f"HTTP {response.status_code}"
        return False

    async def _redeliver_later(self, delivery_id: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s * self._retry_scale)
        if delivery_id in self.deliveries and self.deliveries[delivery_id].webhook_id in self.webhooks:
            self.redeliver(delivery_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


_ENVELOPE = frozenset({"deliveryId", "webhookId", "originalDeliveryId", "isRedelivery", "timestamp"})
