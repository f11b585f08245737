"""A customer snapshot (CustomerInfo) becomes the authoritative entitlement updates, one per product.

Our packs map to RevenueCat *products*, so state is read per product from ``subscriptions`` and
``non_subscriptions`` (plus products seen only in ``entitlements``, such as promotional grants): the
``entitlements`` section folds several products into one and would hide a product change.

- ``occurred_at`` is the snapshot's ``request_date_ms``: a newer read always wins, an older never does.
- ``purchase_reference`` is the product id: RevenueCat keeps one subscription state per (customer,
  product), stable across purchase, renewal, cancellation, expiry and resubscription.
- ``update_id`` is ``<event id>:<user id>:<product id>``: a redelivered event has one effect.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from shared.connectors.revenuecat.customer_info import CustomerInfo, SubscriptionInfo
from shared.connectors.revenuecat.events import RevenueCatEvent, ms_to_datetime
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider


@dataclass(frozen=True)
class ProductState:
    status: EntitlementStatus
    activated_at: datetime | None
    expires_at: datetime | None  # when access ends, grace period included; None = lifetime
    reason: str | None = None


def subscription_state(sub: SubscriptionInfo, at: datetime) -> ProductState:
    """Active while ``expires_date`` (or a later grace period end) is in the future; refunds revoke."""
    activated_at = sub.original_purchase_date or sub.purchase_date
    if sub.refunded_at is not None:
        return ProductState(EntitlementStatus.REVOKED, activated_at, sub.expires_date, "refunded")
    if sub.expires_date is None:
        return ProductState(EntitlementStatus.ACTIVE, activated_at, None)
    ends = max(sub.expires_date, sub.grace_period_expires_date or sub.expires_date)
    if ends > at:
        in_grace = sub.expires_date <= at
        return ProductState(
            EntitlementStatus.ACTIVE, activated_at, ends, "grace_period" if in_grace else None
        )
    reason = "paused" if sub.auto_resume_date is not None else "expired"
    return ProductState(EntitlementStatus.EXPIRED, activated_at, ends, reason)


def product_states(info: CustomerInfo) -> dict[str, ProductState]:
    """Every product the snapshot shows, with its access state at the snapshot's request time."""
    at = ms_to_datetime(info.request_date_ms)
    subscriber = info.subscriber
    states = {product: subscription_state(sub, at) for product, sub in subscriber.subscriptions.items()}
    for product, purchases in subscriber.non_subscriptions.items():
        if purchases and product not in states:
            first = min((p.purchase_date for p in purchases if p.purchase_date), default=None)
            states[product] = ProductState(EntitlementStatus.ACTIVE, first, None)
    for entitlement in subscriber.entitlements.values():
        granted_by = entitlement.product_identifier
        if granted_by and granted_by not in states:
            as_subscription = SubscriptionInfo(
                expires_date=entitlement.expires_date,
                grace_period_expires_date=entitlement.grace_period_expires_date,
                purchase_date=entitlement.purchase_date,
            )
            states[granted_by] = subscription_state(as_subscription, at)
    return states


def updates_from_snapshot(
    info: CustomerInfo,
    *,
    event: RevenueCatEvent,
    user_id: str,
    known_products: Collection[str],
    named_products: Collection[str] = (),
    absent_reason: str = "no longer on the RevenueCat customer",
) -> list[EntitlementUpdate]:
    """Updates for the user's products we sell (``known_products``) and those the event names.

    A named product the snapshot no longer shows (a refunded one-time purchase, a purchase transferred
    away) is revoked with ``absent_reason``. Unknown named products are kept so a catalog gap is
    dead-lettered by the worker rather than ignored.
    """
    states = product_states(info)
    occurred_at = ms_to_datetime(info.request_date_ms)
    for product in named_products:
        if product not in states:
            states[product] = ProductState(EntitlementStatus.REVOKED, None, None, absent_reason)
    wanted = set(known_products) | set(named_products)
    return [
        EntitlementUpdate(
            update_id=f"{event.id}:{user_id}:{product}",
            provider=Provider.REVENUECAT,
            provider_event_type=event.type,
            user_id=user_id,
            provider_product_id=product,
            purchase_reference=product,
            status=state.status,
            occurred_at=occurred_at,
            activated_at=state.activated_at,
            expires_at=state.expires_at,
            reason=state.reason,
        )
        for product, state in sorted(states.items())
        if product in wanted
    ]
