"""GDPR and the entitlement history: export shows it, erasure leaves no row of it naming the user."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from shared.db.history_models import EntitlementHistory
from shared.domain.entitlements import EntitlementStatus
from shared.domain.packs import MicroSaasPack
from tests.conftest import Stack
from tests.infra.history import deliver, entitlements_at, history_rows, update_at
from tests.infra.security import tables_containing

T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)


async def _customer_with_history(stack: Stack, user_id: str, pack: MicroSaasPack) -> list[EntitlementHistory]:
    return await deliver(
        stack,
        update_at(user_id, pack, "purchase", EntitlementStatus.ACTIVE, T0, T0 + timedelta(days=7)),
        update_at(user_id, pack, "refund", EntitlementStatus.REVOKED, T0 + timedelta(days=2)),
    )


async def test_export_holds_the_users_history(
    stack: Stack, http: httpx.AsyncClient, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    await _customer_with_history(stack, user_id, subscription_pack)
    exported = (await http.get(f"{stack.gateway_url}/v1/users/{user_id}/export")).json()
    assert [row["provider_event_id"] for row in exported["tables"]["entitlement_history"]] == [
        f"evt:{user_id}:purchase",
        f"evt:{user_id}:refund",
    ]


async def test_erasure_removes_the_history_from_the_user_and_keeps_it_pseudonymous(
    stack: Stack, http: httpx.AsyncClient, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    rows = await _customer_with_history(stack, user_id, subscription_pack)
    assert "entitlement_history" in await tables_containing(stack.sessions, user_id)

    erased = await http.delete(f"{stack.gateway_url}/v1/users/{user_id}")

    assert erased.status_code == 200
    assert erased.json()["counts"]["entitlement_history"] == 2
    assert await history_rows(stack, user_id) == []
    assert "entitlement_history" not in await tables_containing(stack.sessions, user_id)
    assert (await entitlements_at(stack, http, user_id, at=T0 + timedelta(days=1)))["entitlements"] == []
    async with stack.sessions() as session:
        kept = await session.execute(
            select(EntitlementHistory.user_id, EntitlementHistory.status, EntitlementHistory.status_reason)
            .where(EntitlementHistory.seq.in_([r.seq for r in rows]))
            .order_by(EntitlementHistory.seq)
        )
        pseudonymous = kept.all()
    # Finance still counts what was active when: the rows stay, under one pseudonym, reasons cleared.
    assert [(status, reason) for _, status, reason in pseudonymous] == [("active", None), ("revoked", None)]
    assert len({user for user, _, _ in pseudonymous}) == 1
    assert pseudonymous[0].user_id.startswith("erased:")
