"""The expiry sweep waits a provider's grace: RevenueCat announces expirations itself, Lightning does not."""

import uuid
from datetime import UTC, datetime, timedelta

from services.entitlement_worker.expiry_sweeper import expired_entitlement_updates
from shared.db.entitlements import apply_entitlement_update
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from tests.conftest import Stack, revenuecat_product_of

GRACE = {Provider.REVENUECAT: 7200.0, Provider.LIGHTNING: 0.0}


async def _activate_expiring(stack: Stack, user_id: str, pack: MicroSaasPack, expires_at: datetime) -> None:
    update = EntitlementUpdate(
        update_id=str(uuid.uuid4()),
        provider=Provider.REVENUECAT,
        provider_event_type="INITIAL_PURCHASE",
        user_id=user_id,
        provider_product_id=revenuecat_product_of(pack),
        purchase_reference="ref",
        status=EntitlementStatus.ACTIVE,
        occurred_at=expires_at - timedelta(days=7),
        expires_at=expires_at,
    )
    async with stack.sessions() as session, session.begin():
        await apply_entitlement_update(session, update, stack.topics.entitlements)


async def _swept_users(stack: Stack, now: datetime) -> set[str]:
    async with stack.sessions() as session:
        return {
            u.user_id for u in await expired_entitlement_updates(session, now, grace_s=GRACE, limit=100_000)
        }


async def test_revenuecat_entitlement_is_not_swept_within_its_grace(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    now = datetime.now(UTC)
    await _activate_expiring(stack, user_id, subscription_pack, now - timedelta(minutes=30))
    assert user_id not in await _swept_users(stack, now)


async def test_revenuecat_entitlement_is_swept_after_its_grace(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    now = datetime.now(UTC)
    await _activate_expiring(stack, user_id, subscription_pack, now - timedelta(hours=3))
    assert user_id in await _swept_users(stack, now)
