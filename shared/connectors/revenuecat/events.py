"""RevenueCat's webhook envelope (``{"api_version", "event": {...}}``), as far as we read it.

Unknown fields and event types are allowed: RevenueCat adds them without a version bump.
"""

from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class RevenueCatEvent(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100)
    event_timestamp_ms: int
    app_user_id: str | None = None
    original_app_user_id: str | None = None
    aliases: list[str] = Field(default_factory=list)
    product_id: str | None = None
    new_product_id: str | None = None
    entitlement_ids: list[str] | None = None
    period_type: str | None = None
    purchased_at_ms: int | None = None
    expiration_at_ms: int | None = None
    grace_period_expiration_at_ms: int | None = None
    environment: str | None = None
    store: str | None = None
    transaction_id: str | None = None
    original_transaction_id: str | None = None
    cancel_reason: str | None = None
    expiration_reason: str | None = None
    transferred_from: list[str] | None = None
    transferred_to: list[str] | None = None
    price: Decimal | None = None
    currency: str | None = None

    @property
    def occurred_at(self) -> datetime:
        return ms_to_datetime(self.event_timestamp_ms)


class RevenueCatWebhook(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    api_version: str
    event: RevenueCatEvent


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
