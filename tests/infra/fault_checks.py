"""The fault suite's invariants: the ledger equals what the providers report, each entitlement was
activated once, no CloudEvent id twice, nothing dead-lettered, every webhook answered 200.

``settle`` waits (bounded, polling) until the sandboxes have delivered or given up on every webhook
of the load, the ledger matches their truth and the outbox is drained, then counts what is off.
"""

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from shared.db.models import Outbox, UserEntitlement
from tests.infra.fault_load import LoadDriver
from tests.infra.fault_stack import FaultStack

# (user, provider, purchase reference) → (status, expires_at to the second, or None)
Ledger = dict[tuple[str, str, str], tuple[str, str | None]]
BTCPAY_LAST_ATTEMPT = 8  # the first delivery and 8 automatic redeliveries


@dataclass
class Figures:
    fault: str
    webhooks: int = 0
    # entitlements the providers imply that the ledger lacks, holds in another state, or never announced
    lost: int = 0
    unexpected: int = 0  # ledger rows no provider truth implies
    duplicated: int = 0  # activation events beyond one per (user, product) + ids carrying two events
    dead_lettered: int = 0
    unanswered: int = 0  # webhooks the sandbox gave up on (never answered 200)
    recovery_s: float | None = None
    notes: dict[str, object] = field(default_factory=dict)

    def line(self) -> str:
        recovery = "n/a" if self.recovery_s is None else f"{self.recovery_s:.1f}"
        return (
            f"fault={self.fault} webhooks={self.webhooks} lost={self.lost} duplicated={self.duplicated} "
            f"dead_lettered={self.dead_lettered} recovery_s={recovery}"
        )

    def report(self) -> str:
        details = " ".join(f"{k}={v}" for k, v in self.notes.items())
        return f"{self.line()}\n  unexpected={self.unexpected} unanswered={self.unanswered} {details}"

    def assert_clean(self) -> None:
        counts = (self.lost, self.unexpected, self.duplicated, self.dead_lettered, self.unanswered)
        assert counts == (0, 0, 0, 0, 0), self.report()


async def revenuecat_truth(driver: LoadDriver) -> Ledger:
    """What RevenueCat's subscribers data implies for every customer the load touched."""
    stack, expected = driver.stack, {}
    for app_user_id in driver.load.revenuecat_customers:
        response = await stack.http.get(f"{stack.sandbox_urls['revenuecat']}/control/customers/{app_user_id}")
        response.raise_for_status()
        subscriptions = response.json()["subscriber"]["subscriptions"]
        for product, sub in subscriptions.items():
            user = app_user_id.removeprefix("rc_")
            expected[(user, "revenuecat", product)] = _subscription_state(sub)
    return expected


def _subscription_state(sub: dict[str, str | None]) -> tuple[str, str | None]:
    """Refunded = revoked; otherwise active until ``expires_date`` (no grace periods in the load)."""
    expires = sub["expires_date"]
    if sub.get("refunded_at"):
        return ("revoked", expires)
    active = expires is None or datetime.fromisoformat(expires) > datetime.now(UTC)
    return ("active" if active else "expired", expires)


async def lightning_truth(driver: LoadDriver) -> Ledger:
    """BTCPay's invoices: a Settled one is a one-time pack owned for good."""
    statuses = await driver.invoices()
    return {
        (p.user_id, "lightning", p.purchase_reference): ("active", None)
        for p in driver.load.lightning
        if p.invoice_id and statuses.get(p.invoice_id) == "Settled"
    }


async def ledger_of(stack: FaultStack, prefix: str) -> Ledger:
    async with stack.sessions() as session:
        rows = await session.execute(
            select(
                UserEntitlement.user_id,
                UserEntitlement.source_provider,
                UserEntitlement.purchase_reference,
                UserEntitlement.status,
                UserEntitlement.expires_at,
            ).where(UserEntitlement.user_id.like(f"{prefix}%"))
        )
        return {
            (user, provider, ref): (status, expires.strftime("%Y-%m-%dT%H:%M:%SZ") if expires else None)
            for user, provider, ref, status, expires in rows.all()
        }


async def unpublished_outbox_rows(stack: FaultStack) -> int:
    async with stack.sessions() as session:
        count = await session.scalar(select(func.count()).where(Outbox.published_at.is_(None)))
    return int(count or 0)


async def webhook_deliveries(driver: LoadDriver) -> tuple[int, int, int]:
    """(webhooks, still pending, given up) over both sandboxes, for this load's events only."""
    stack, events = driver.stack, set(driver.load.revenuecat_events)
    response = await stack.http.get(f"{stack.sandbox_urls['revenuecat']}/control/deliveries")
    rc = [d for d in response.json()["deliveries"] if d["event_id"] in events]
    pending = sum(d["state"] == "pending" for d in rc)
    failed = sum(d["state"] == "failed" for d in rc)
    invoices = {p.invoice_id for p in driver.load.lightning if p.invoice_id}
    response = await stack.http.get(f"{stack.sandbox_urls['btcpay']}/control/deliveries")
    chains: dict[str, list[dict[str, object]]] = {}
    for delivery in response.json():
        if delivery["request"].get("invoiceId") in invoices:
            chains.setdefault(str(delivery["request"]["originalDeliveryId"]), []).append(delivery)
    for attempts in chains.values():
        if any(a["status"] == "HttpSuccess" for a in attempts):
            continue
        if len(attempts) > BTCPAY_LAST_ATTEMPT and attempts[-1]["status"] != "Pending":
            failed += 1
        else:
            pending += 1
    return len(rc) + len(chains), pending, failed


@dataclass
class Settled:
    figures: Figures
    expected: Ledger
    ledger: Ledger


async def settle(
    driver: LoadDriver,
    fault: str,
    *,
    healed_at: float,
    dead_letters_before: int,
    timeout_s: float = 240,
) -> Settled:
    """Wait for quiescence (or ``timeout_s``), then count everything the invariants forbid.

    ``healed_at`` (time.monotonic()) is when the fault ended; recovery is from then until the ledger
    first matched the providers with every webhook answered and the outbox drained.
    """
    stack = driver.stack
    expected = await revenuecat_truth(driver) | await lightning_truth(driver)
    deadline = time.monotonic() + timeout_s
    recovered_at: float | None = None
    ledger: Ledger = {}
    while True:
        webhooks, pending, failed = await webhook_deliveries(driver)
        try:
            ledger = await ledger_of(stack, driver.load.prefix)
            quiet = pending == 0 and await unpublished_outbox_rows(stack) == 0
        except (TimeoutError, DBAPIError):  # our own probe timed out on a loaded machine: poll again
            quiet = False
        _, activations, _ = _announced(stack, driver.load.prefix)
        announced = all(activations[(user, ref)] for user, _, ref in expected)
        if quiet and announced and all(ledger.get(key) == state for key, state in expected.items()):
            recovered_at = time.monotonic()
            break
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    await stack.published.caught_up(timeout_s=30)
    figures = Figures(fault, webhooks=webhooks, unanswered=failed)
    ids, activations, conflicting_ids = _announced(stack, driver.load.prefix)
    wrong = sum(1 for key, state in expected.items() if ledger.get(key) != state)
    unannounced = sum(1 for user, _, ref in expected if activations[(user, ref)] == 0)
    figures.lost = wrong + unannounced
    figures.unexpected = sum(1 for key in ledger if key not in expected)
    # A duplicate is any CloudEvent id seen twice (the relay checks the topic after a round it cannot
    # vouch for, shared/messaging/outbox_relay.py), an id carrying two different events, or a second
    # activation event for one purchase.
    republished = sum(n - 1 for n in ids.values())
    extra_activations = sum(n - 1 for n in activations.values() if n)
    figures.duplicated = republished + conflicting_ids + extra_activations
    figures.dead_lettered = dead_letters(stack) - dead_letters_before
    if recovered_at is not None:
        figures.recovery_s = max(0.0, recovered_at - healed_at)
    figures.notes = {
        "wrong_state": wrong,
        "unannounced": unannounced,
        "cloudevents_republished": republished,
        "cloudevent_ids_conflicting": conflicting_ids,
        "extra_activations": extra_activations,
        "pending_webhooks": pending,
        "load_failures": dict(driver.load.failures) or "none",
    }
    return Settled(figures, expected, ledger)


def _announced(stack: FaultStack, prefix: str) -> tuple[Counter[str], Counter[tuple[str, str]], int]:
    """CloudEvent ids of the load's users on the entitlement topic, activations per (user, ref) counted
    once per event, and ids seen with two different events (one id, two meanings: a real duplicate)."""
    mine = stack.published.on(stack.topics.entitlements, lambda r: prefix.encode() in r.value)
    ids: Counter[str] = Counter()
    first: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    conflicting = 0
    for record in mine:
        event = record.json()
        event_id, canonical = str(event["id"]), json.dumps(event, sort_keys=True)
        ids[event_id] += 1
        if event_id in first:
            conflicting += first[event_id] != canonical
            continue
        first[event_id] = canonical
        events.append(event)
    activations = Counter(
        (str(e["data"]["user_id"]), str(e["data"]["purchase_reference"]))
        for e in events
        if e["type"] == "entitlement.activated"
    )
    return ids, activations, conflicting


def dead_letters(stack: FaultStack) -> int:
    """Records on every dead-letter topic of the namespace (the session's, so any is a failure)."""
    dlqs = {stack.topics.dead_letters_of(t) for t in stack.topics.all() if not t.endswith(".dlq")}
    return sum(len(stack.published.on(topic)) for topic in dlqs)


def mismatches(settled: Settled, limit: int = 5) -> list[str]:
    """A few ledger rows that disagree with the providers, for a failure message."""
    wrong = [
        f"{key}: provider {state}, ledger {settled.ledger.get(key)}"
        for key, state in settled.expected.items()
        if settled.ledger.get(key) != state
    ]
    return wrong[:limit]
