"""Builds RevenueCat webhook bodies shaped like RevenueCat's published sample events."""

import time
import uuid
from typing import Any


def revenuecat_event(
    event_type: str,
    *,
    app_user_id: str | None,
    product_id: str,
    event_id: str | None = None,
    event_timestamp_ms: int | None = None,
    purchased_at_ms: int | None = None,
    expiration_at_ms: int | None = None,
    original_transaction_id: str = "1000000000001",
    **extra: Any,
) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    event: dict[str, Any] = {
        "event_timestamp_ms": event_timestamp_ms or now_ms,
        "product_id": product_id,
        "period_type": "NORMAL",
        "purchased_at_ms": purchased_at_ms or now_ms,
        "expiration_at_ms": expiration_at_ms or now_ms + 7 * 86_400_000,
        "environment": "SANDBOX",
        "entitlement_id": None,
        "entitlement_ids": ["pro"],
        "presented_offering_id": None,
        "transaction_id": original_transaction_id,
        "original_transaction_id": original_transaction_id,
        "is_family_share": False,
        "country_code": "US",
        "app_user_id": app_user_id,
        "aliases": [app_user_id] if app_user_id else [],
        "original_app_user_id": app_user_id,
        "currency": "USD",
        "price": 4.99,
        "price_in_purchased_currency": 4.99,
        "subscriber_attributes": {},
        "store": "APP_STORE",
        "takehome_percentage": 0.7,
        "tax_percentage": 0.0,
        "commission_percentage": 0.3,
        "offer_code": None,
        "type": event_type,
        "id": event_id or str(uuid.uuid4()).upper(),
        "app_id": "app1234567890",
    }
    event.update(extra)
    return {"event": event, "api_version": "1.0"}
