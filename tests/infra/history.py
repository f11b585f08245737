"""History test helpers: updates at chosen provider times, delivered through the real worker."""

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from shared.db.history_models import EntitlementHistory
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from tests.conftest import Stack, revenuecat_product_of
from tests.infra.catalog import publish_update
from tests.infra.waiting import eventually


def update_at(
    user_id: str,
    pack: MicroSaasPack,
    name: str,
    status: EntitlementStatus,
    at: datetime,
    expires_at: datetime | None = None,
) -> EntitlementUpdate:
    """An update of the user's one purchase of ``pack``; its id names the user between colons."""
    return EntitlementUpdate(
        update_id=f"evt:{user_id}:{name}",
        provider=Provider.REVENUECAT,
        provider_event_type=name.upper(),
        user_id=user_id,
        provider_product_id=revenuecat_product_of(pack),
        purchase_reference="purchase-1",
        status=status,
        occurred_at=at,
        activated_at=at if status is EntitlementStatus.ACTIVE else None,
        expires_at=expires_at,
        reason="refunded" if status is EntitlementStatus.REVOKED else None,
    )


async def history_rows(stack: Stack, user_id: str) -> list[EntitlementHistory]:
    async with stack.sessions() as session:
        rows = await session.execute(
            select(EntitlementHistory)
            .where(EntitlementHistory.user_id == user_id)
            .order_by(EntitlementHistory.seq)
        )
        return list(rows.scalars())


async def deliver(stack: Stack, *updates: EntitlementUpdate) -> list[EntitlementHistory]:
    """Publish the updates in order; returns the user's history once the worker recorded them all."""
    for update in updates:
        await publish_update(stack, update)
    user_id, wanted = updates[0].user_id, {u.update_id for u in updates}

    async def recorded() -> list[EntitlementHistory] | None:
        rows = await history_rows(stack, user_id)
        return rows if wanted <= {r.provider_event_id for r in rows} else None

    return await eventually(recorded, what=f"history rows of {sorted(wanted)}")


async def entitlements_at(
    stack: Stack, http: httpx.AsyncClient, user_id: str, **when: datetime
) -> dict[str, Any]:
    """``GET /v1/users/{id}/entitlements`` with ``at``/``known_at`` (none: the current state)."""
    params = {name: value.isoformat() for name, value in when.items()}
    response = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def states(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(status, expiration) of each entitlement of an entitlements answer."""
    return [(e["status"], e["expirationDate"]) for e in answer["entitlements"]]
