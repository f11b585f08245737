"""The convergence property through the real worker path: generated lifecycles, permuted and
duplicated, split into batches and applied to PostgreSQL (``processed_events`` claims included)
end exactly as the domain's rule folds them (tests/unit/test_ledger_convergence.py), with the same
events in the outbox, and the entitlement history answers for every past instant what the provider's
records said then. Fewer examples than the pure property: each one is a few transactions."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.entitlement_worker.apply_updates import apply_update_batch
from shared.db.entitlement_history import AsOf, user_entitlements_as_of
from shared.db.models import Outbox, UserEntitlement
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.ledger import precedence_of
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from tests.conftest import Stack, revenuecat_product_of
from tests.unit.lifecycles import START, Lifecycle, lifecycles
from tests.unit.test_ledger_convergence import fold

pytestmark = pytest.mark.postgres
# Lifecycles happen in the future here, so the running worker's expiry sweeper leaves them alone.
SHIFT = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30) - START


@st.composite
def batched_deliveries(draw: st.DrawFn) -> tuple[Lifecycle, list[int], list[int]]:
    """A lifecycle, the order its updates (and some again) are delivered in, and batch sizes."""
    lifecycle = draw(lifecycles())
    indices = list(range(len(lifecycle.updates)))
    order = draw(st.permutations(indices + draw(st.lists(st.sampled_from(indices), max_size=4))))
    sizes = draw(st.lists(st.integers(1, 4), min_size=len(order), max_size=len(order)))
    return lifecycle, order, sizes


def _as_delivered(lifecycle: Lifecycle, user: str, product: str) -> list[EntitlementUpdate]:
    return [
        update.model_copy(
            update={
                "update_id": f"{user}:{update.update_id}",
                "provider": Provider.REVENUECAT,  # the pack's mapped product; the rule is the same
                "user_id": user,
                "provider_product_id": product,
                "occurred_at": update.occurred_at + SHIFT,
                "activated_at": update.activated_at + SHIFT if update.activated_at else None,
                "expires_at": update.expires_at + SHIFT if update.expires_at else None,
            }
        )
        for update in lifecycle.updates
    ]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=batched_deliveries())
async def test_batches_in_postgres_end_as_the_rule_folds_them(
    stack: Stack, subscription_pack: MicroSaasPack, case: tuple[Lifecycle, list[int], list[int]]
) -> None:
    lifecycle, order, sizes = case
    user = f"prop-{uuid.uuid4().hex[:10]}"
    updates = _as_delivered(lifecycle, user, revenuecat_product_of(subscription_pack))
    delivered = [updates[i] for i in order]
    position = 0
    for size in sizes:
        batch = delivered[position : position + size]
        if not batch:
            break
        values = [u.model_dump_json().encode() for u in batch]
        await apply_update_batch(stack.sessions, values, stack.topics.entitlements)
        position += size

    expected = fold(delivered)
    assert expected.state is not None
    async with stack.sessions() as session:
        row = (
            await session.execute(select(UserEntitlement).where(UserEntitlement.user_id == user))
        ).scalar_one()
        events = (
            await session.execute(select(Outbox.event_type).where(Outbox.key == user).order_by(Outbox.seq))
        ).scalars()
        assert (row.status, row.expires_at, row.last_event_at) == (
            expected.state.status.value,
            expected.state.expires_at,
            expected.state.last_event_at,
        )
        assert list(events) == [event.value for event, _, _ in expected.announced]
        for moment in sorted({u.occurred_at for u in updates}):
            then = max((u for u in updates if u.occurred_at <= moment), key=precedence_of)
            [held] = await user_entitlements_as_of(session, user, AsOf(moment))
            expiry = then.expires_at.isoformat() if then.expires_at else None
            assert (held["status"], held["expirationDate"]) == (then.status.value, expiry)
