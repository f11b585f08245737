"""Webhook events shaped like RevenueCat's published sample events (``{"api_version", "event"}``)."""

import uuid
from decimal import Decimal
from typing import Any

from sandboxes.revenuecat.customers import Customer, OneTimePurchase, Subscription, now_ms

API_VERSION = "1.0"


def _money(price: Decimal) -> float:
    # RevenueCat sends prices as JSON numbers (USD); the wire format is theirs, not ours.
    return float(price)


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "api_version": API_VERSION}


def _common(event_type: str, customer: Customer | None, app_id: str, environment: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_timestamp_ms": now_ms(),
        "type": event_type,
        "id": str(uuid.uuid4()).upper(),
        "app_id": app_id,
        "environment": environment,
    }
    if customer is not None:
        event |= {
            "app_user_id": customer.current_app_user_id or customer.original_app_user_id,
            "original_app_user_id": customer.original_app_user_id,
            "aliases": customer.all_ids(),
            "subscriber_attributes": customer.attributes,
        }
    return event


def subscription_event(
    event_type: str,
    customer: Customer,
    sub: Subscription,
    *,
    app_id: str,
    environment: str,
    price: Decimal | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A lifecycle event about one subscription; ``fields`` adds the type's own fields."""
    charged = sub.price if price is None else price
    event = _common(event_type, customer, app_id, environment) | {
        "product_id": sub.product_id,
        "period_type": sub.period_type,
        "purchased_at_ms": sub.purchase_ms,
        "expiration_at_ms": sub.expires_ms,
        "entitlement_id": None,
        "entitlement_ids": sub.entitlement_ids or None,
        "presented_offering_id": None,
        "transaction_id": sub.transaction_id,
        "original_transaction_id": sub.original_transaction_id,
        "is_family_share": sub.ownership_type == "FAMILY_SHARED",
        "country_code": "US",
        "currency": sub.currency,
        "price": _money(charged),
        "price_in_purchased_currency": _money(charged),
        "store": sub.store,
        "takehome_percentage": 0.7,
        "tax_percentage": 0.0,
        "commission_percentage": 0.3,
        "offer_code": None,
    }
    return envelope(event | fields)


def one_time_event(
    event_type: str,
    customer: Customer,
    purchase: OneTimePurchase,
    *,
    app_id: str,
    environment: str,
    price: Decimal | None = None,
    **fields: Any,
) -> dict[str, Any]:
    charged = purchase.price if price is None else price
    event = _common(event_type, customer, app_id, environment) | {
        "product_id": purchase.product_id,
        "period_type": "NORMAL",
        "purchased_at_ms": purchase.purchase_ms,
        "expiration_at_ms": None,
        "entitlement_id": None,
        "entitlement_ids": purchase.entitlement_ids or None,
        "presented_offering_id": None,
        "transaction_id": purchase.transaction_id,
        "original_transaction_id": purchase.transaction_id,
        "is_family_share": False,
        "country_code": "US",
        "currency": purchase.currency,
        "price": _money(charged),
        "price_in_purchased_currency": _money(charged),
        "store": purchase.store,
        "takehome_percentage": 0.7,
        "tax_percentage": 0.0,
        "commission_percentage": 0.3,
        "offer_code": None,
    }
    return envelope(event | fields)


def transfer_event(
    source: Customer, destination: Customer, *, app_id: str, environment: str
) -> dict[str, Any]:
    """TRANSFER is sent for the destination only and carries no ``app_user_id``."""
    event = _common("TRANSFER", None, app_id, environment) | {
        "store": "APP_STORE",
        "transferred_from": source.all_ids(),
        "transferred_to": destination.all_ids(),
        "subscriber_attributes": destination.attributes,
    }
    return envelope(event)


def temporary_grant_event(
    customer: Customer, sub: Subscription, *, app_id: str, environment: str
) -> dict[str, Any]:
    """TEMPORARY_ENTITLEMENT_GRANT guarantees only a minimal set of fields."""
    event = _common("TEMPORARY_ENTITLEMENT_GRANT", customer, app_id, environment) | {
        "product_id": sub.product_id,
        "entitlement_ids": sub.entitlement_ids or None,
        "purchased_at_ms": sub.purchase_ms,
        "expiration_at_ms": sub.expires_ms,
        "transaction_id": sub.transaction_id,
        "store": sub.store,
    }
    return envelope(event)


def bare_event(
    event_type: str, customer: Customer | None, *, app_id: str, environment: str
) -> dict[str, Any]:
    """TEST (sent from the dashboard) and any other type with no purchase attached."""
    return envelope(_common(event_type, customer, app_id, environment))
