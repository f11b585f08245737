"""Entitlement updates (what a provider says happened) and the events we announce."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field, PlainSerializer

from shared.domain.model import DomainModel, SeedShape
from shared.domain.provider import Provider

# ``datetime.isoformat()`` (``+00:00``), as entitlements have always been written.
IsoDatetime = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str, when_used="json")]


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


class EntitlementView(SeedShape):
    """One entitlement as the reads and the CloudEvents' ``data`` show it: the seed's
    ``EntitlementUpdate`` names, and beside them the names we served before."""

    todays_names = {
        "user_id": "userId",
        "pack_id": "packId",
        "source_provider": "provider",
        "purchase_reference": "reference",
        "activated_at": "activationDate",
        "expires_at": "expirationDate",
    }

    user_id: str = Field(alias="userId")
    pack_id: UUID = Field(alias="packId")
    status: EntitlementStatus
    provider: str = Field(description="the provider that sold it (revenuecat, lightning, ...)")
    reference: str = Field(description="the provider's purchase reference")
    activation_date: IsoDatetime | None = Field(alias="activationDate")
    expiration_date: IsoDatetime | None = Field(alias="expirationDate", description="null: no end")
    entitlement_id: UUID
    pack_slug: str
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
