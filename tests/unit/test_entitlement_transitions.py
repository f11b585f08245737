"""Which entitlement event a state change announces (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.entitlements import (
    EntitlementEventType,
    EntitlementStatus,
    EntitlementUpdate,
    event_type_for_transition,
)
from shared.domain.provider import Provider

NOW = datetime(2026, 11, 24, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def _update(status: EntitlementStatus, expires_at: datetime | None = LATER) -> EntitlementUpdate:
    return EntitlementUpdate(
        update_id="e1",
        provider=Provider.REVENUECAT,
        provider_event_type="X",
        user_id="u1",
        provider_product_id="p1",
        purchase_reference="r1",
        status=status,
        occurred_at=NOW,
        expires_at=expires_at,
    )


A, E, R = EntitlementStatus.ACTIVE, EntitlementStatus.EXPIRED, EntitlementStatus.REVOKED


@pytest.mark.parametrize(
    ("previous", "previous_expiry", "update", "expected"),
    [
        (None, None, _update(A), EntitlementEventType.ACTIVATED),
        (E, NOW, _update(A), EntitlementEventType.ACTIVATED),
        (R, NOW, _update(A), EntitlementEventType.ACTIVATED),
        (A, NOW, _update(A, LATER), EntitlementEventType.RENEWED),
        (A, LATER, _update(A, LATER), None),
        (A, LATER, _update(E), EntitlementEventType.EXPIRED),
        (E, LATER, _update(E), None),
        (None, None, _update(E), None),
        (A, LATER, _update(R), EntitlementEventType.REVOKED),
        (E, LATER, _update(R), EntitlementEventType.REVOKED),
        (R, LATER, _update(R), None),
        (None, None, _update(R), None),
    ],
)
def test_transition_announces_expected_event(
    previous: EntitlementStatus | None,
    previous_expiry: datetime | None,
    update: EntitlementUpdate,
    expected: EntitlementEventType | None,
) -> None:
    assert event_type_for_transition(previous, previous_expiry, update) is expected
