"""RevenueCat's CustomerInfo (``GET /v1/subscribers/{id}``), as far as we read it.

Unknown fields are allowed: RevenueCat adds them without a version bump.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class EntitlementInfo(_Lenient):
    expires_date: datetime | None = None
    grace_period_expires_date: datetime | None = None
    product_identifier: str | None = None
    purchase_date: datetime | None = None


class SubscriptionInfo(_Lenient):
    expires_date: datetime | None = None
    purchase_date: datetime | None = None
    original_purchase_date: datetime | None = None
    grace_period_expires_date: datetime | None = None
    unsubscribe_detected_at: datetime | None = None
    billing_issues_detected_at: datetime | None = None
    auto_resume_date: datetime | None = None
    refunded_at: datetime | None = None
    store: str | None = None
    is_sandbox: bool = False
    ownership_type: str | None = None
    period_type: str | None = None


class NonSubscriptionPurchase(_Lenient):
    id: str
    purchase_date: datetime | None = None
    store: str | None = None
    is_sandbox: bool = False


class Subscriber(_Lenient):
    original_app_user_id: str | None = None
    entitlements: dict[str, EntitlementInfo] = Field(default_factory=dict)
    subscriptions: dict[str, SubscriptionInfo] = Field(default_factory=dict)
    non_subscriptions: dict[str, list[NonSubscriptionPurchase]] = Field(default_factory=dict)


class CustomerInfo(_Lenient):
    request_date_ms: int
    subscriber: Subscriber
