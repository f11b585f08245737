"""The public shape of one entitlement (API responses and event data)."""

import uuid
from datetime import datetime
from typing import Any, Protocol


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
    return {
        "entitlement_id": str(row.id),
        "user_id": row.user_id,
        "pack_id": str(row.catalog_id),
        "pack_slug": pack_slug,
        "status": row.status,
        "source_provider": row.source_provider,
        "purchase_reference": row.purchase_reference,
        "activated_at": row.activated_at.isoformat() if row.activated_at else None,
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "reason": row.status_reason,
    }
