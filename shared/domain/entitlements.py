"""Entitlement updates (what a provider says happened) and the events we announce."""

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shared.domain.model import DomainModel
from shared.domain.provider import Provider


class EntitlementStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class EntitlementEventType(StrEnum):
    ACTIVATED = "entitlement.activated"
    RENEWED = "entitlement.renewed"
    EXPIRED = "entitlement.expired"
    REVOKED = "entitlement.revoked"


class EntitlementUpdate(DomainModel):
    """The state one provider event says an entitlement is in, keyed by user for ordering.

    ``update_id`` is the dedupe key: the provider's event id, suffixed when one event yields
    several updates. ``occurred_at`` orders updates: an older one never overwrites newer state.
    """

    update_id: str = Field(min_length=1)
    provider: Provider
    provider_event_type: str
    user_id: str = Field(min_length=1)
    provider_product_id: str = Field(min_length=1)
    purchase_reference: str = Field(min_length=1)
    status: EntitlementStatus
    occurred_at: datetime
    activated_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = None


def event_type_for_transition(
    previous_status: EntitlementStatus | None,
    previous_expires_at: datetime | None,
    update: EntitlementUpdate,
) -> EntitlementEventType | None:
    """Which entitlement event a state change announces; ``None`` when nothing changed for access."""
    if update.status is EntitlementStatus.ACTIVE:
        if previous_status is not EntitlementStatus.ACTIVE:
            return EntitlementEventType.ACTIVATED
        if update.expires_at != previous_expires_at:
            return EntitlementEventType.RENEWED
        return None
    if update.status is EntitlementStatus.EXPIRED:
        return EntitlementEventType.EXPIRED if previous_status is EntitlementStatus.ACTIVE else None
    if previous_status is None or previous_status is EntitlementStatus.REVOKED:
        return None
    return EntitlementEventType.REVOKED
