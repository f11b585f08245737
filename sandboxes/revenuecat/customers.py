"""Customers as RevenueCat keeps them: subscriptions by product, one-time purchases, aliases."""

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# RevenueCat's servers keep their own time: tests skew it (``POST /control/clock``) to show that we
# order its snapshots by its clock, never by ours.
CLOCK_OFFSET_MS = [0]


def now_ms() -> int:
    return int(time.time() * 1000) + CLOCK_OFFSET_MS[0]


def iso(ms: int | None) -> str | None:
    """RevenueCat's ISO 8601 form (second precision, ``Z``)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_transaction_id() -> str:
    return str(uuid.uuid4().int)[:15]


@dataclass
class Subscription:
    product_id: str
    store: str
    period_ms: int
    purchase_ms: int
    original_purchase_ms: int
    expires_ms: int
    original_transaction_id: str
    transaction_id: str
    entitlement_ids: list[str]
    price: Decimal
    currency: str
    period_type: str = "NORMAL"
    renewal_number: int = 1
    unsubscribe_detected_ms: int | None = None
    billing_issues_detected_ms: int | None = None
    grace_period_expires_ms: int | None = None
    auto_resume_ms: int | None = None
    refunded_ms: int | None = None
    expires_before_refund_ms: int | None = None
    pending_product_id: str | None = None
    ownership_type: str = "PURCHASED"

    def render(self, is_sandbox: bool) -> dict[str, Any]:
        return {
            "auto_resume_date": iso(self.auto_resume_ms),
            "billing_issues_detected_at": iso(self.billing_issues_detected_ms),
            "expires_date": iso(self.expires_ms),
            "grace_period_expires_date": iso(self.grace_period_expires_ms),
            "is_sandbox": is_sandbox,
            "original_purchase_date": iso(self.original_purchase_ms),
            "ownership_type": self.ownership_type,
            "period_type": self.period_type.lower(),
            "purchase_date": iso(self.purchase_ms),
            "refunded_at": iso(self.refunded_ms),
            "store": self.store.lower(),
            "store_transaction_id": self.transaction_id,
            "unsubscribe_detected_at": iso(self.unsubscribe_detected_ms),
        }


@dataclass
class OneTimePurchase:
    id: str
    product_id: str
    store: str
    purchase_ms: int
    transaction_id: str
    entitlement_ids: list[str]
    price: Decimal
    currency: str

    def render(self, is_sandbox: bool) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_sandbox": is_sandbox,
            "purchase_date": iso(self.purchase_ms),
            "store": self.store.lower(),
            "store_transaction_id": self.transaction_id,
        }


@dataclass
class Customer:
    original_app_user_id: str
    first_seen_ms: int
    aliases: list[str]
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    non_subscriptions: dict[str, list[OneTimePurchase]] = field(default_factory=dict)
    refunded_one_time: dict[str, list[OneTimePurchase]] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_seen_ms: int = 0
    current_app_user_id: str | None = None  # the id the app used last (webhooks' app_user_id)

    def all_ids(self) -> list[str]:
        return [self.original_app_user_id, *(a for a in self.aliases if a != self.original_app_user_id)]


class CustomerStore:
    """Customers by any of their app user ids; ``get_or_create`` like ``GET /v1/subscribers``."""

    def __init__(self) -> None:
        self._by_id: dict[str, Customer] = {}

    def find(self, app_user_id: str) -> Customer | None:
        return self._by_id.get(app_user_id)

    def get_or_create(self, app_user_id: str) -> Customer:
        customer = self._by_id.get(app_user_id)
        if customer is None:
            customer = Customer(app_user_id, now_ms(), [app_user_id])
            self._by_id[app_user_id] = customer
        return customer

    def all(self) -> list[Customer]:
        """Each customer once (aliases point at the same one), in the order they were first seen."""
        unique = {id(customer): customer for customer in self._by_id.values()}
        return sorted(unique.values(), key=lambda c: (c.first_seen_ms, c.original_app_user_id))

    def add_alias(self, customer: Customer, alias: str) -> None:
        if alias not in customer.aliases:
            customer.aliases.append(alias)
        self._by_id[alias] = customer
