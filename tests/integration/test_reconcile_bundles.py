"""Reconciling a bundle purchase: the truth of the bundle's product reaches each child entitlement,
and the one correction it yields, applied by the ledger, repairs the child that drifted."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from shared.db.catalog_models import BundleItem
from shared.db.entitlements import apply_entitlement_update
from shared.db.models import UserEntitlement
from shared.db.reconciliation_reads import landings, ledger_entries
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider
from shared.domain.reconciliation import Drift, DriftKind, ProviderTruth, find_drift
from tests.conftest import Stack
from tests.infra.revenuecat import make_pack

pytestmark = pytest.mark.postgres
RC = Provider.REVENUECAT


async def test_a_drifted_bundle_child_is_found_and_repaired_by_the_bundle_correction(
    stack: Stack, user_id: str
) -> None:
    bundle, bundle_product = await make_pack(stack.sessions)
    children = [(await make_pack(stack.sessions))[0] for _ in range(2)]
    async with stack.sessions() as session, session.begin():
        for position, child in enumerate(children):
            session.add(BundleItem(bundle_id=bundle.id, child_id=child.id, position=position))
    now = datetime.now(UTC).replace(microsecond=0)
    expires_at = now + timedelta(days=7)
    purchase = EntitlementUpdate(
        update_id=str(uuid.uuid4()),
        provider=RC,
        provider_event_type="INITIAL_PURCHASE",
        user_id=user_id,
        provider_product_id=bundle_product,
        purchase_reference=bundle_product,
        status=EntitlementStatus.ACTIVE,
        occurred_at=now - timedelta(minutes=1),
        expires_at=expires_at,
    )
    async with stack.sessions() as session, session.begin():
        await apply_entitlement_update(session, purchase, stack.topics.entitlements)
        await session.execute(
            update(UserEntitlement)
            .where(UserEntitlement.user_id == user_id, UserEntitlement.catalog_id == children[1].id)
            .values(expires_at=expires_at + timedelta(days=30))
        )
    truth = [
        ProviderTruth(
            user_id, bundle_product, bundle_product, EntitlementStatus.ACTIVE, now, None, expires_at
        )
    ]

    async def drift() -> list[Drift]:
        async with stack.sessions() as session:
            ledger = await ledger_entries(session, RC, user_id)
            reached = await landings(session, RC, user_id, {(bundle_product, bundle_product)})
        assert {e.provider_product_id for e in ledger} == {bundle_product}
        return find_drift(RC, ledger, truth, reached)

    [found] = await drift()
    assert (found.kind, found.key.catalog_id) == (DriftKind.WRONG_EXPIRY, children[1].id)
    assert found.key.purchase_reference == f"bundle:{bundle.slug}:{bundle_product}"
    correction = found.correction
    assert (correction.provider_product_id, correction.purchase_reference) == (bundle_product, bundle_product)

    async with stack.sessions() as session, session.begin():
        await apply_entitlement_update(session, correction, stack.topics.entitlements)
    assert await drift() == []
