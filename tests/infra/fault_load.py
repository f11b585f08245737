"""Sustained, mixed provider traffic for a fault scenario, driven through the provider sandboxes.

Every tick is one provider action: two RevenueCat simulations (a purchase by a new customer, or a
renewal/cancellation of an earlier one) for each Lightning purchase (checkout at our gateway, then a
payment at the BTCPay sandbox). The sandboxes send the webhooks and retry on their own schedules, so
they hold the truth the invariants are checked against. Actions are started on a fixed clock and
never wait for each other: a slow or dead gateway does not slow the load down.
"""

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from tests.infra.fault_stack import FaultStack

# Two RevenueCat actions per Lightning purchase; a purchase yields 4 BTCPay webhooks
# (InvoiceCreated, InvoiceReceivedPayment, InvoicePaymentSettled, InvoiceSettled).
MIX = ("revenuecat", "revenuecat", "lightning")
ACTIONS_PER_S = 15.0  # ≈ 10 RevenueCat + 5 x 4 Lightning = 30 webhooks/s


@dataclass
class LightningPurchase:
    user_id: str
    session_id: str
    purchase_reference: str
    invoice_id: str | None = None
    paid_at: float | None = None  # epoch seconds of the payment (compared with database times)


@dataclass
class Load:
    """What a scenario's load did: the sandboxes' events and purchases it caused, by user."""

    label: str
    rng: random.Random
    revenuecat_events: list[str] = field(default_factory=list)
    # app user id → products it bought (each user buys one product, then lives with it)
    revenuecat_customers: dict[str, str] = field(default_factory=dict)
    # customers a scenario drives itself (refunds it then checks): the load never renews or cancels them
    reserved_customers: set[str] = field(default_factory=set)
    lightning: list[LightningPurchase] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    _users: "itertools.count[int]" = field(default_factory=itertools.count)

    def user_id(self, provider: str) -> str:
        return f"{self.label}-{provider}-u{next(self._users)}"

    @property
    def prefix(self) -> str:
        return f"{self.label}-"


class LoadDriver:
    def __init__(self, stack: FaultStack, label: str, seed: int = 11) -> None:
        self.stack = stack
        self.load = Load(label, random.Random(seed))
        self._tasks: set[asyncio.Task[None]] = set()
        self._rc = stack.sandbox_urls["revenuecat"]
        self._btcpay = stack.sandbox_urls["btcpay"]
        self._store = f"{self._btcpay}/api/v1/stores/{stack.settings.btcpay.store_id}"
        self._btcpay_auth = {"Authorization": f"token {stack.settings.btcpay.api_key.get_secret_value()}"}

    async def run(
        self,
        duration_s: float,
        faults: Sequence[tuple[float, Callable[[], Awaitable[None]]]] = (),
        rate_per_s: float = ACTIONS_PER_S,
    ) -> None:
        """Start actions at ``rate_per_s`` for ``duration_s``; each fault coroutine starts at its offset
        and runs beside the load (the load waits for it to finish, then for every action)."""
        started = time.monotonic()
        fault_tasks = [asyncio.create_task(self._at(started + at, inject)) for at, inject in faults]
        for tick in itertools.count():
            due = started + tick / rate_per_s
            if due > started + duration_s:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            self._spawn(self._act(MIX[tick % len(MIX)]))
        await asyncio.gather(*fault_tasks)
        await asyncio.gather(*list(self._tasks))

    @staticmethod
    async def _at(when: float, inject: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        await inject()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _act(self, provider: str) -> None:
        try:
            if provider == "revenuecat":
                await self._revenuecat_action()
            else:
                await self._lightning_purchase()
        except httpx.HTTPError as exc:
            self.load.failures[f"{provider}: {type(exc).__name__}"] += 1

    async def _revenuecat_action(self) -> None:
        load = self.load
        customers = [c for c in load.revenuecat_customers.items() if c[0] not in load.reserved_customers]
        if customers and load.rng.random() < 0.35:
            app_user_id, product = load.rng.choice(customers)
            kind = load.rng.choice(("renewal", "cancellation"))
        else:
            app_user_id = f"rc_{load.user_id('rc')}"
            product = load.rng.choice(sorted(self.stack.packs.revenuecat))
            kind = "purchase"
            load.revenuecat_customers[app_user_id] = product
        await self.simulate(kind, app_user_id, product)

    async def simulate(self, kind: str, app_user_id: str, product: str) -> str:
        """One RevenueCat simulation; the sandbox changes the customer and sends the webhook."""
        body = {"app_user_id": app_user_id, "product_id": product}
        response = await self.stack.http.post(f"{self._rc}/control/simulate/{kind}", json=body)
        response.raise_for_status()
        event_id: str = response.json()["event"]["id"]
        self.load.revenuecat_events.append(event_id)
        return event_id

    async def _lightning_purchase(self) -> None:
        """Checkout at our gateway (may fail during a fault: then nothing was bought), then pay."""
        user_id = self.load.user_id("ln")
        answer = await self.stack.http.post(
            f"{self.stack.gateway_url}/v1/checkout",
            json={"userId": user_id, "packSlug": self.stack.packs.lightning.slug, "provider": "lightning"},
            headers={"X-API-Key": self.stack.api_key},
        )
        if answer.status_code != 201:
            self.load.failures[f"lightning checkout: HTTP {answer.status_code}"] += 1
            return
        session = answer.json()
        purchase = LightningPurchase(user_id, session["id"], session["purchaseReference"])
        self.load.lightning.append(purchase)
        rows = await self._greenfield("/invoices", params={"orderId": purchase.session_id})
        purchase.invoice_id = str(rows[0]["id"])
        paid = await self.stack.http.post(f"{self._btcpay}/control/invoices/{purchase.invoice_id}/pay")
        paid.raise_for_status()
        purchase.paid_at = time.time()

    async def _greenfield(self, path: str, params: dict[str, str | list[str]]) -> list[dict[str, object]]:
        response = await self.stack.http.get(f"{self._store}{path}", headers=self._btcpay_auth, params=params)
        response.raise_for_status()
        rows: list[dict[str, object]] = response.json()
        return rows

    async def invoices(self) -> dict[str, str]:
        """BTCPay's truth: invoice id → status, for every invoice this load paid."""
        ids = [p.session_id for p in self.load.lightning if p.invoice_id]
        if not ids:
            return {}
        rows = await self._greenfield("/invoices", params={"orderId": ids})
        return {str(row["id"]): str(row["status"]) for row in rows}
