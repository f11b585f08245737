"""The public shape of one entitlement (API responses and event data)."""

import uuid
from datetime import datetime
from typing import Any, Protocol

from shared.domain.entitlements import EntitlementStatus, EntitlementView


class EntitlementFields(Protocol):
    """What a view needs: a stored row or the ledger's in-memory state of one."""

    id: uuid.UUID
    user_id: str
    catalog_id: uuid.UUID
    status: str
    source_provider: str
    purchase_reference: str
    activated_at: datetime | None
    expires_at: datetime | None
    status_reason: str | None


def entitlement_view(row: EntitlementFields, pack_slug: str) -> dict[str, Any]:
    """``EntitlementView``: the seed's names and, beside them, the names we served before."""
    view = EntitlementView(
        entitlement_id=row.id,
        user_id=row.user_id,
        pack_id=row.catalog_id,
        pack_slug=pack_slug,
        status=EntitlementStatus(row.status),
        provider=row.source_provider,
        reference=row.purchase_reference,
        activation_date=row.activated_at,
        expiration_date=row.expires_at,
        reason=row.status_reason,
    )
    return view.model_dump(mode="json")
