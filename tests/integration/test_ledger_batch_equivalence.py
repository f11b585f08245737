"""A batch decided in memory has exactly the effects of applying its updates one at a time: the same
ledger, the same announced events with the same data, the same processed ids, history and audit rows."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from services.entitlement_worker.apply_updates import apply_update_batch
from shared.db.entitlements import apply_entitlement_update
from shared.db.history_models import EntitlementHistory
from shared.db.models import Outbox, ProcessedEvent, UserEntitlement
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from tests.conftest import Stack, revenuecat_product_of

pytestmark = pytest.mark.postgres
# In the future: the worker's expiry sweeper must not expire these entitlements during the test.
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
ACTIVE, EXPIRED, REVOKED = EntitlementStatus.ACTIVE, EntitlementStatus.EXPIRED, EntitlementStatus.REVOKED

# (update name, purchase reference, status, hours after T0 it happened, hours after T0 it expires)
LIFECYCLE = [
    ("buy", "ref-a", ACTIVE, 0, 168),
    ("buy-other", "ref-b", ACTIVE, 1, 720),
    ("renew", "ref-a", ACTIVE, 2, 336),
    ("buy", "ref-a", ACTIVE, 0, 168),  # redelivered in the batch
    ("stale-renewal", "ref-a", ACTIVE, 1, 999),  # older than "renew": changes nothing
    ("same-expiry", "ref-a", ACTIVE, 3, 336),  # applied, but access unchanged: no event
    ("refund", "ref-a", REVOKED, 4, None),
    ("stale-expiry", "ref-b", EXPIRED, 0, None),  # older than "buy-other"
    ("rebuy", "ref-a", ACTIVE, 5, 168),
    ("expire-other", "ref-b", EXPIRED, 6, None),
    ("already-applied", "ref-b", ACTIVE, 0, 24),  # applied before the batch: a duplicate
]


def _updates(user_id: str, pack: MicroSaasPack) -> list[EntitlementUpdate]:
    updates = []
    for name, reference, status, hours, expires in LIFECYCLE:
        at = T0 + timedelta(hours=hours)
        updates.append(
            EntitlementUpdate(
                update_id=f"{user_id}:{name}",
                provider=Provider.REVENUECAT,
                provider_event_type="TEST",
                user_id=user_id,
                provider_product_id=revenuecat_product_of(pack),
                purchase_reference=reference,
                status=status,
                occurred_at=at,
                activated_at=at if name == "rebuy" else None,
                expires_at=T0 + timedelta(hours=expires) if expires is not None else None,
                reason="refunded" if status is REVOKED else None,
            )
        )
    return updates


async def _effects(stack: Stack, user_id: str) -> dict[str, Any]:
    """Everything the ledger wrote for ``user_id``, with the user and generated ids taken out."""

    def plain(value: Any) -> Any:
        return value.replace(user_id, "U") if isinstance(value, str) else value

    async with stack.sessions() as session:
        rows = await session.execute(
            select(UserEntitlement)
            .where(UserEntitlement.user_id == user_id)
            .order_by(UserEntitlement.purchase_reference)
        )
        ledger = [
            (r.purchase_reference, r.status, r.activated_at, r.expires_at, r.last_event_at, r.status_reason)
            for r in rows.scalars()
        ]
        outbox = await session.execute(
            select(Outbox.event_type, Outbox.payload).where(Outbox.key == user_id).order_by(Outbox.seq)
        )
        events = [
            (kind, {k: plain(v) for k, v in payload["data"].items() if k != "entitlement_id"})
            for kind, payload in outbox
        ]
        processed = await session.execute(
            select(ProcessedEvent.provider_event_id).where(
                ProcessedEvent.provider_event_id.startswith(f"{user_id}:")
            )
        )
        history = await session.execute(
            select(EntitlementHistory)
            .where(EntitlementHistory.user_id == user_id)
            .order_by(EntitlementHistory.seq)
        )
        timeline = [
            (
                plain(h.provider_event_id),
                h.purchase_reference,
                h.status,
                h.activated_at,
                h.expires_at,
                h.occurred_at,
                h.status_reason,
                h.applied,
                h.announced,
            )
            for h in history.scalars()
        ]
        audit = await session.execute(
            text(
                "SELECT details FROM audit_log WHERE subject = :s AND event = 'entitlement.changed' "
                "ORDER BY seq"
            ),
            {"s": f"user:{user_id}"},
        )
    return {
        "ledger": ledger,
        "events": events,
        "processed": sorted(plain(p) for p in processed.scalars()),
        "history": timeline,
        "audit": [{k: plain(v) for k, v in d.items()} for (d,) in audit],
    }


async def test_a_batch_has_the_effects_of_its_updates_applied_one_by_one(
    stack: Stack, subscription_pack: MicroSaasPack
) -> None:
    one_by_one, batched = f"seq-{uuid.uuid4().hex[:8]}", f"bat-{uuid.uuid4().hex[:8]}"
    for user in (one_by_one, batched):  # the last update was applied before the batch arrived
        async with stack.sessions() as session, session.begin():
            await apply_entitlement_update(
                session, _updates(user, subscription_pack)[-1], stack.topics.entitlements
            )

    for update in _updates(one_by_one, subscription_pack):
        async with stack.sessions() as session, session.begin():
            await apply_entitlement_update(session, update, stack.topics.entitlements)
    values = [u.model_dump_json().encode() for u in _updates(batched, subscription_pack)]
    assert await apply_update_batch(stack.sessions, values, stack.topics.entitlements) is True

    expected = await _effects(stack, one_by_one)
    assert [kind for kind, _ in expected["events"]] == [
        "entitlement.activated",  # already-applied (ref-b), before the batch
        "entitlement.activated",  # buy
        "entitlement.renewed",  # buy-other: ref-b's expiry moved
        "entitlement.renewed",  # renew
        "entitlement.revoked",  # refund
        "entitlement.activated",  # rebuy
        "entitlement.expired",  # expire-other
    ]
    # Every update taken in has its row, the stale ones too (not applied); redeliveries have none.
    assert [(event_id, applied) for event_id, *_, applied, _ in expected["history"]] == [
        ("U:already-applied", True),
        ("U:buy", True),
        ("U:buy-other", True),
        ("U:renew", True),
        ("U:stale-renewal", False),
        ("U:same-expiry", True),
        ("U:refund", True),
        ("U:stale-expiry", False),
        ("U:rebuy", True),
        ("U:expire-other", True),
    ]
    assert await _effects(stack, batched) == expected
