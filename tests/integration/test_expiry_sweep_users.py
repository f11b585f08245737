"""Two users of one product whose access ends in the same second each get their own expiry."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.entitlement_worker.expiry_sweeper import expired_entitlement_updates
from shared.db.entitlements import apply_entitlement_update
from shared.db.models import UserEntitlement
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from tests.conftest import Stack, revenuecat_product_of

pytestmark = pytest.mark.postgres
GRACE = {Provider.REVENUECAT: 7200.0, Provider.LIGHTNING: 0.0}


async def test_two_users_expiring_in_the_same_second_are_both_expired(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    expires_at = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    users = [f"{user_id}-a", f"{user_id}-b"]
    for user in users:  # same product, same store reference shape, same expiry
        update = EntitlementUpdate(
            update_id=str(uuid.uuid4()),
            provider=Provider.REVENUECAT,
            provider_event_type="INITIAL_PURCHASE",
            user_id=user,
            provider_product_id=revenuecat_product_of(subscription_pack),
            purchase_reference="ref",
            status=EntitlementStatus.ACTIVE,
            occurred_at=expires_at - timedelta(days=7),
            expires_at=expires_at,
        )
        async with stack.sessions() as session, session.begin():
            await apply_entitlement_update(session, update, stack.topics.entitlements)

    async with stack.sessions() as session:
        swept = [
            u
            for u in await expired_entitlement_updates(
                session, datetime.now(UTC), grace_s=GRACE, limit=100_000
            )
            if u.user_id in users
        ]
    assert sorted(u.user_id for u in swept) == users
    assert len({u.update_id for u in swept}) == 2
    for update in swept:  # as the worker applies them
        async with stack.sessions() as session, session.begin():
            await apply_entitlement_update(session, update, stack.topics.entitlements)

    async with stack.sessions() as session:
        statuses = await session.execute(
            select(UserEntitlement.user_id, UserEntitlement.status).where(UserEntitlement.user_id.in_(users))
        )
        assert dict(statuses.all()) == {user: EntitlementStatus.EXPIRED.value for user in users}
