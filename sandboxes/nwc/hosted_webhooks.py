"""Alby's hosted webhooks, as the wallet sends them: a settled incoming invoice is posted to the
registered endpoint, sent with Svix, so signed by the Standard Webhooks scheme (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``; the ``standardwebhooks`` library), the same id on every
retry. Payload fields follow Alby's webhook reference (/work/shared/providers.md §3.2): the invoice
with ``type`` ``invoice.incoming.settled``.

Svix retries a failed attempt (non-2xx, timeout) on its own schedule: immediately, 5 s, 5 min, …
(scaled down here by ``retry_scale``). ``sent`` records every attempt for tests.
"""

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

# Svix's retry schedule, in seconds (the first attempt is immediate).
RETRY_DELAYS_S = (5.0, 300.0, 1800.0, 7200.0)


@dataclass
class HostedWebhooks:
    url: str
    secret: str  # whsec_…: the endpoint secret Alby returns when the endpoint is registered
    retry_scale: float = 1.0
    sent: list[dict[str, Any]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def invoice_settled(self, invoice: dict[str, Any]) -> None:
        """Queue the delivery of ``invoice.incoming.settled`` (returns at once, as a wallet would)."""
        payload = {
            "type": "invoice.incoming.settled",
            "amount": invoice["amount"] // 1000,  # sats, as Alby's invoice objects carry them
            "payment_hash": invoice["payment_hash"],
            "payment_request": invoice["invoice"],
            "preimage": invoice.get("preimage"),
            "settled": True,
            "settled_at": datetime.fromtimestamp(invoice["settled_at"], UTC).isoformat(),
            "created_at": datetime.fromtimestamp(invoice["created_at"], UTC).isoformat(),
            "expires_at": datetime.fromtimestamp(invoice["expires_at"], UTC).isoformat(),
            "memo": invoice.get("description"),
        }
        task = asyncio.create_task(self._deliver(f"msg_{secrets.token_hex(12)}", payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message_id: str, payload: dict[str, Any]) -> None:
        body = httpx.Request("POST", self.url, json=payload).content.decode()
        async with httpx.AsyncClient(timeout=15.0) as http:
            for delay in (0.0, *RETRY_DELAYS_S):
                await asyncio.sleep(delay * self.retry_scale)
                now = datetime.now(UTC)
                headers = {
                    "webhook-id": message_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": Webhook(self.secret).sign(message_id, now, body),
                    "content-type": "application/json",
                }
                try:
                    status = (await http.post(self.url, content=body, headers=headers)).status_code
                except httpx.HTTPError as exc:
                    status, error = None, type(exc).__name__
                else:
                    error = None
                self.sent.append({"id": message_id, "status": status, "error": error, "payload": payload})
                if status is not None and 200 <= status < 300:
                    return

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
