"""The entitlement ledger against the real Postgres: idempotence, ordering, outbox in one transaction."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.connectors.registry import personal_data_map
from shared.db.entitlements import apply_entitlement_update
from shared.db.models import Outbox, UserEntitlement
from shared.domain.entitlements import EntitlementEventType, EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from shared.security.privacy import erase_user
from tests.conftest import Stack, revenuecat_product_of
from tests.infra.security import tables_containing

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _update(
    user_id: str, pack: MicroSaasPack, status: EntitlementStatus, at: datetime, update_id: str | None = None
) -> EntitlementUpdate:
    return EntitlementUpdate(
        update_id=update_id or str(uuid.uuid4()),
        provider=Provider.REVENUECAT,
        provider_event_type="TEST",
        user_id=user_id,
        provider_product_id=revenuecat_product_of(pack),
        purchase_reference="ref-1",
        status=status,
        occurred_at=at,
        expires_at=at + timedelta(days=7),
    )


async def _apply(stack: Stack, update: EntitlementUpdate) -> EntitlementEventType | None:
    async with stack.sessions() as session, session.begin():
        return await apply_entitlement_update(session, update, stack.topics.entitlements)


async def _state(stack: Stack, user_id: str) -> tuple[list[str], int]:
    async with stack.sessions() as session:
        statuses = (
            (await session.execute(select(UserEntitlement.status).where(UserEntitlement.user_id == user_id)))
            .scalars()
            .all()
        )
        events = (
            await session.execute(select(func.count()).select_from(Outbox).where(Outbox.key == user_id))
        ).scalar_one()
    return list(statuses), events


async def test_same_update_applied_twice_changes_state_once(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    update = _update(user_id, subscription_pack, EntitlementStatus.ACTIVE, T0)
    assert await _apply(stack, update) is EntitlementEventType.ACTIVATED
    assert await _apply(stack, update) is None
    assert await _state(stack, user_id) == (["active"], 1)


async def test_older_update_never_overwrites_newer_state(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    expired_later = _update(user_id, subscription_pack, EntitlementStatus.EXPIRED, T0 + timedelta(days=8))
    purchased_earlier = _update(user_id, subscription_pack, EntitlementStatus.ACTIVE, T0)
    assert await _apply(stack, expired_later) is None  # nothing was active, so nothing to announce
    assert await _apply(stack, purchased_earlier) is None
    assert await _state(stack, user_id) == (["expired"], 0)


async def test_update_for_unknown_product_leaves_no_trace(stack: Stack, user_id: str) -> None:
    update = EntitlementUpdate(
        update_id=str(uuid.uuid4()),
        provider=Provider.REVENUECAT,
        provider_event_type="INITIAL_PURCHASE",
        user_id=user_id,
        provider_product_id="com.nobody.sells.this",
        purchase_reference="r",
        status=EntitlementStatus.ACTIVE,
        occurred_at=T0,
    )
    with pytest.raises(LookupError):
        await _apply(stack, update)
    assert await _state(stack, user_id) == ([], 0)


async def test_a_retry_after_the_users_erasure_is_still_a_duplicate(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    # A RevenueCat-style key names the user, so the erasure rewrites it; the claim must survive that.
    update = _update(
        user_id, subscription_pack, EntitlementStatus.ACTIVE, T0, update_id=f"EVT-1:{user_id}:product"
    )
    assert await _apply(stack, update) is EntitlementEventType.ACTIVATED
    async with stack.sessions() as session, session.begin():
        await erase_user(session, personal_data_map(), user_id, requested_by="test")
    assert await tables_containing(stack.sessions, user_id) == {}

    assert await _apply(stack, update) is None  # the provider's retry of the same event

    assert await _state(stack, user_id) == ([], 0)
    assert await tables_containing(stack.sessions, user_id) == {}
