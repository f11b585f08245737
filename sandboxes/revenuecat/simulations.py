"""What customers and stores do, as state changes plus the webhook RevenueCat sends for each.

Each function changes the sandbox's customers first and returns the webhook body; the control API
then hands it to the sender, so a webhook never describes a state the subscribers API does not show.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandboxes.revenuecat import events
from sandboxes.revenuecat.config import SandboxConfig
from sandboxes.revenuecat.customers import (
    Customer,
    CustomerStore,
    OneTimePurchase,
    Subscription,
    new_transaction_id,
    now_ms,
)
from sandboxes.revenuecat.project_catalog import ProjectCatalog

DAY_MS = 86_400_000
TEMPORARY_GRANT_MAX_MS = DAY_MS  # RevenueCat: at most 24 h
_DURATION = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)


class SimulationError(ValueError):
    """A simulation that makes no sense for the customer's state (answered with 409)."""


def period_ms(value: str | int | None, default: str = "P1W") -> int:
    """ISO 8601 duration (``P1M``, ``P1W``, ``PT30S``...) or plain milliseconds."""
    if isinstance(value, int):
        return value
    match = _DURATION.match(value or default)
    if not match:
        raise SimulationError(f"not an ISO 8601 duration: {value!r}")
    y, mo, w, d, h, mi, s = (int(g or 0) for g in match.groups())
    return ((((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s) * 1000


@dataclass
class Sandbox:
    config: SandboxConfig
    customers: CustomerStore
    catalog: ProjectCatalog

    def _ev(self) -> dict[str, Any]:
        return {"app_id": self.config.app_id, "environment": self.config.environment}

    def customer(self, app_user_id: str) -> Customer:
        customer = self.customers.get_or_create(app_user_id)
        customer.last_seen_ms = now_ms()
        customer.current_app_user_id = app_user_id
        return customer

    def subscription(self, customer: Customer, product_id: str) -> Subscription:
        sub = customer.subscriptions.get(product_id)
        if sub is None:
            raise SimulationError(f"{customer.original_app_user_id} has no subscription to {product_id}")
        return sub

    def purchase(self, body: dict[str, Any]) -> dict[str, Any]:
        """INITIAL_PURCHASE of a subscription (a trial when ``trial`` is true)."""
        customer = self.customer(body["app_user_id"])
        product_id = str(body["product_id"])
        entitlement_ids = list(body.get("entitlement_ids") or [])
        self.catalog.ensure_entitlements_for(product_id, entitlement_ids, "subscription")
        now = now_ms()
        length = period_ms(body.get("period"))
        transaction = new_transaction_id()
        sub = Subscription(
            product_id=product_id,
            store=str(body.get("store", "APP_STORE")),
            period_ms=length,
            purchase_ms=now,
            original_purchase_ms=now,
            expires_ms=now + length,
            original_transaction_id=transaction,
            transaction_id=transaction,
            entitlement_ids=self.catalog.entitlement_keys_for_store_product(product_id),
            price=Decimal(str(body.get("price", "4.99"))),
            currency=str(body.get("currency", "USD")),
            period_type="TRIAL" if body.get("trial") else "NORMAL",
        )
        customer.subscriptions[product_id] = sub
        price = Decimal(0) if body.get("trial") else None
        return events.subscription_event("INITIAL_PURCHASE", customer, sub, price=price, **self._ev())

    def renew(self, body: dict[str, Any]) -> dict[str, Any]:
        """RENEWAL: the next period, or a lapsed subscriber resubscribing (also RENEWAL)."""
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        now = now_ms()
        if sub.pending_product_id:  # a deferred product change takes effect at renewal
            return self._switch_product(customer, sub, sub.pending_product_id, "RENEWAL")
        lapsed = sub.expires_ms <= now or sub.refunded_ms is not None
        starts = now if lapsed else sub.expires_ms
        trial_conversion = sub.period_type == "TRIAL"
        sub.purchase_ms = starts
        sub.expires_ms = starts + sub.period_ms
        sub.transaction_id = new_transaction_id()
        sub.renewal_number += 1
        sub.period_type = "NORMAL"
        sub.billing_issues_detected_ms = sub.grace_period_expires_ms = None
        sub.unsubscribe_detected_ms = sub.refunded_ms = sub.auto_resume_ms = None
        return events.subscription_event(
            "RENEWAL",
            customer,
            sub,
            is_trial_conversion=trial_conversion,
            renewal_number=sub.renewal_number,
            **self._ev(),
        )

    def cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        """CANCELLATION with auto-renew off: access continues until ``expires_date``."""
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        reason = str(body.get("reason", "UNSUBSCRIBE"))
        sub.unsubscribe_detected_ms = now_ms()
        return events.subscription_event("CANCELLATION", customer, sub, cancel_reason=reason, **self._ev())

    def uncancel(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        sub.unsubscribe_detected_ms = None
        return events.subscription_event("UNCANCELLATION", customer, sub, **self._ev())

    def expire(self, body: dict[str, Any]) -> dict[str, Any]:
        """EXPIRATION: the period (and any grace period) is over now."""
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        sub.expires_ms = min(sub.expires_ms, now_ms())
        sub.grace_period_expires_ms = None
        reason = str(body.get("reason", "UNSUBSCRIBE"))
        return events.subscription_event("EXPIRATION", customer, sub, expiration_reason=reason, **self._ev())

    def billing_issue(self, body: dict[str, Any]) -> dict[str, Any]:
        """BILLING_ISSUE: the renewal charge failed as the period ended; a grace period keeps access."""
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        now = now_ms()
        sub.expires_ms = min(sub.expires_ms, now)
        sub.billing_issues_detected_ms = now
        grace_ms = body.get("grace_period_ms", 3 * DAY_MS)
        sub.grace_period_expires_ms = now + int(grace_ms) if grace_ms else None
        return events.subscription_event(
            "BILLING_ISSUE",
            customer,
            sub,
            grace_period_expiration_at_ms=sub.grace_period_expires_ms,
            **self._ev(),
        )

    def change_product(self, body: dict[str, Any]) -> dict[str, Any]:
        """PRODUCT_CHANGE: immediate (the old product ends now) or at the next renewal."""
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        new_product = str(body["new_product_id"])
        if body.get("immediate", True):
            return self._switch_product(customer, sub, new_product, "PRODUCT_CHANGE")
        sub.pending_product_id = new_product
        return events.subscription_event(
            "PRODUCT_CHANGE", customer, sub, new_product_id=new_product, **self._ev()
        )

    def _switch_product(
        self, customer: Customer, old: Subscription, new_product: str, event_type: str
    ) -> dict[str, Any]:
        now = now_ms()
        old.expires_ms = min(old.expires_ms, now)
        old.pending_product_id = None
        keys = self.catalog.entitlement_keys_for_store_product(old.product_id)
        self.catalog.ensure_entitlements_for(new_product, keys, "subscription")
        new = Subscription(
            product_id=new_product,
            store=old.store,
            period_ms=old.period_ms,
            purchase_ms=now,
            original_purchase_ms=old.original_purchase_ms,
            expires_ms=now + old.period_ms,
            original_transaction_id=old.original_transaction_id,
            transaction_id=new_transaction_id(),
            entitlement_ids=self.catalog.entitlement_keys_for_store_product(new_product),
            price=old.price,
            currency=old.currency,
        )
        customer.subscriptions[new_product] = new
        if event_type == "PRODUCT_CHANGE":
            return events.subscription_event(
                event_type, customer, old, new_product_id=new_product, **self._ev()
            )
        return events.subscription_event(event_type, customer, new, renewal_number=1, **self._ev())

    def refund(self, body: dict[str, Any]) -> dict[str, Any]:
        """A refund is a CANCELLATION with ``cancel_reason`` CUSTOMER_SUPPORT and a negative price."""
        customer = self.customer(body["app_user_id"])
        product_id = str(body["product_id"])
        if customer.non_subscriptions.get(product_id):
            purchase = customer.non_subscriptions[product_id].pop()
            customer.refunded_one_time.setdefault(product_id, []).append(purchase)
            return events.one_time_event(
                "CANCELLATION",
                customer,
                purchase,
                price=-purchase.price,
                cancel_reason="CUSTOMER_SUPPORT",
                **self._ev(),
            )
        sub = self.subscription(customer, product_id)
        now = now_ms()
        sub.expires_before_refund_ms = sub.expires_ms
        sub.refunded_ms = now
        sub.expires_ms = min(sub.expires_ms, now)
        return events.subscription_event(
            "CANCELLATION", customer, sub, price=-sub.price, cancel_reason="CUSTOMER_SUPPORT", **self._ev()
        )

    def reverse_refund(self, body: dict[str, Any]) -> dict[str, Any]:
        """REFUND_REVERSED (App Store): the refunded purchase counts again."""
        customer = self.customer(body["app_user_id"])
        product_id = str(body["product_id"])
        refunded = customer.refunded_one_time.get(product_id)
        if refunded:
            purchase = refunded.pop()
            customer.non_subscriptions.setdefault(product_id, []).append(purchase)
            return events.one_time_event("REFUND_REVERSED", customer, purchase, **self._ev())
        sub = self.subscription(customer, product_id)
        if sub.refunded_ms is None or sub.expires_before_refund_ms is None:
            raise SimulationError(f"{product_id} was not refunded")
        sub.refunded_ms = None
        sub.expires_ms, sub.expires_before_refund_ms = sub.expires_before_refund_ms, None
        return events.subscription_event("REFUND_REVERSED", customer, sub, **self._ev())

    def transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        """TRANSFER: every purchase moves from one customer to another (sent for the destination)."""
        source = self.customer(str(body["from_app_user_id"]))
        destination = self.customer(str(body["to_app_user_id"]))
        if not source.subscriptions and not source.non_subscriptions:
            raise SimulationError(f"{source.original_app_user_id} has nothing to transfer")
        destination.subscriptions.update(source.subscriptions)
        for product, purchases in source.non_subscriptions.items():
            destination.non_subscriptions.setdefault(product, []).extend(purchases)
        source.subscriptions, source.non_subscriptions = {}, {}
        return events.transfer_event(source, destination, **self._ev())

    def pause(self, body: dict[str, Any]) -> dict[str, Any]:
        """SUBSCRIPTION_PAUSED (Play): access continues; the later EXPIRATION ends it."""
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        sub.auto_resume_ms = sub.expires_ms + int(body.get("pause_ms", 30 * DAY_MS))
        return events.subscription_event(
            "SUBSCRIPTION_PAUSED", customer, sub, auto_resume_at_ms=sub.auto_resume_ms, **self._ev()
        )

    def extend(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = self.customer(body["app_user_id"])
        sub = self.subscription(customer, str(body["product_id"]))
        sub.expires_ms = max(sub.expires_ms, now_ms()) + int(body.get("extension_ms", 7 * DAY_MS))
        return events.subscription_event("SUBSCRIPTION_EXTENDED", customer, sub, **self._ev())

    def temporary_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        """TEMPORARY_ENTITLEMENT_GRANT during a store outage: access for at most 24 h."""
        customer = self.customer(body["app_user_id"])
        product_id = str(body["product_id"])
        entitlement_ids = list(body.get("entitlement_ids") or [])
        self.catalog.ensure_entitlements_for(product_id, entitlement_ids, "subscription")
        now = now_ms()
        duration = min(int(body.get("duration_ms", TEMPORARY_GRANT_MAX_MS)), TEMPORARY_GRANT_MAX_MS)
        transaction = new_transaction_id()
        sub = Subscription(
            product_id=product_id,
            store=str(body.get("store", "APP_STORE")),
            period_ms=period_ms(body.get("period")),
            purchase_ms=now,
            original_purchase_ms=now,
            expires_ms=now + duration,
            original_transaction_id=transaction,
            transaction_id=transaction,
            entitlement_ids=self.catalog.entitlement_keys_for_store_product(product_id),
            price=Decimal(0),
            currency="USD",
        )
        customer.subscriptions[product_id] = sub
        return events.temporary_grant_event(customer, sub, **self._ev())

    def non_renewing_purchase(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = self.customer(body["app_user_id"])
        product_id = str(body["product_id"])
        entitlement_ids = list(body.get("entitlement_ids") or [])
        self.catalog.ensure_entitlements_for(product_id, entitlement_ids, "non_consumable")
        transaction = new_transaction_id()
        purchase = OneTimePurchase(
            id=transaction[:10],
            product_id=product_id,
            store=str(body.get("store", "APP_STORE")),
            purchase_ms=now_ms(),
            transaction_id=transaction,
            entitlement_ids=self.catalog.entitlement_keys_for_store_product(product_id),
            price=Decimal(str(body.get("price", "1.99"))),
            currency=str(body.get("currency", "USD")),
        )
        customer.non_subscriptions.setdefault(product_id, []).append(purchase)
        return events.one_time_event("NON_RENEWING_PURCHASE", customer, purchase, **self._ev())

    def bare_event(self, body: dict[str, Any]) -> dict[str, Any]:
        """TEST or any other ``type`` (plus any event ``fields``), changing no state."""
        app_user_id = body.get("app_user_id")
        customer = self.customer(str(app_user_id)) if app_user_id else None
        webhook = events.bare_event(str(body.get("type", "TEST")), customer, **self._ev())
        webhook["event"] |= dict(body.get("fields") or {})
        return webhook

    def add_alias(self, body: dict[str, Any]) -> Customer:
        customer = self.customer(str(body["app_user_id"]))
        self.customers.add_alias(customer, str(body["alias"]))
        return customer
