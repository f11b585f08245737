"""The ledger/provider comparison: which drift kind each disagreement is, and its correction."""

import uuid
from datetime import UTC, datetime, timedelta

from shared.domain.entitlements import EntitlementStatus
from shared.domain.provider import Provider
from shared.domain.reconciliation import (
    DriftKind,
    LedgerEntry,
    LedgerKey,
    ProviderTruth,
    corrections,
    find_drift,
)

RC = Provider.REVENUECAT
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PACK = uuid.UUID(int=1)
ACTIVE, EXPIRED = EntitlementStatus.ACTIVE, EntitlementStatus.EXPIRED


def truth(
    status: EntitlementStatus = ACTIVE, expires_at: datetime | None = NOW + timedelta(days=7)
) -> ProviderTruth:
    return ProviderTruth("u1", "prod", "prod", status, NOW, NOW - timedelta(days=1), expires_at)


def row(
    status: EntitlementStatus = ACTIVE,
    expires_at: datetime | None = NOW + timedelta(days=7),
    *,
    catalog_id: uuid.UUID = PACK,
    reference: str = "prod",
) -> LedgerEntry:
    return LedgerEntry(
        LedgerKey("u1", catalog_id, reference),
        status,
        expires_at,
        last_event_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(hours=1),
        provider_product_id="prod",
        provider_reference="prod",
    )


LANDS = {("prod", "prod"): [(PACK, "prod")]}


def test_agreeing_ledger_has_no_drift() -> None:
    assert find_drift(RC, [row()], [truth()], LANDS) == []


def test_expiry_within_a_second_is_the_same_expiry() -> None:
    ledger = row(expires_at=NOW + timedelta(days=7, milliseconds=400))
    assert find_drift(RC, [ledger], [truth()], LANDS) == []


def test_active_purchase_without_a_row_is_missing_and_corrected_by_the_truth() -> None:
    [drift] = find_drift(RC, [], [truth()], LANDS)
    assert drift.kind is DriftKind.MISSING
    update = drift.correction
    assert (update.user_id, update.provider_product_id, update.purchase_reference) == ("u1", "prod", "prod")
    assert (update.status, update.expires_at, update.occurred_at) == (ACTIVE, NOW + timedelta(days=7), NOW)
    assert update.update_id.startswith("reconcile:prod:")


def test_an_expired_purchase_without_a_row_is_no_drift() -> None:
    assert find_drift(RC, [], [truth(EXPIRED, NOW - timedelta(days=1))], LANDS) == []


def test_changed_expiry_is_wrong_expiry() -> None:
    [drift] = find_drift(RC, [row(expires_at=NOW + timedelta(days=30))], [truth()], LANDS)
    assert drift.kind is DriftKind.WRONG_EXPIRY
    assert drift.correction.expires_at == NOW + timedelta(days=7)


def test_different_status_is_wrong_status() -> None:
    [drift] = find_drift(RC, [row()], [truth(EntitlementStatus.REVOKED)], LANDS)
    assert drift.kind is DriftKind.WRONG_STATUS
    assert drift.correction.status is EntitlementStatus.REVOKED


def test_an_active_row_past_its_end_is_wrong_status_when_the_provider_ended_it_earlier() -> None:
    [drift] = find_drift(RC, [row()], [truth(EXPIRED, NOW - timedelta(days=1))], LANDS)
    assert drift.kind is DriftKind.WRONG_STATUS
    assert drift.correction.status is EXPIRED


def test_the_expiry_of_access_that_is_over_is_not_compared() -> None:
    ledger = row(EXPIRED, NOW - timedelta(days=2))
    assert find_drift(RC, [ledger], [truth(EXPIRED, NOW - timedelta(days=1))], LANDS) == []


def test_active_row_the_provider_does_not_know_is_extra_and_revoked() -> None:
    [drift] = find_drift(RC, [row()], [], LANDS)
    assert drift.kind is DriftKind.EXTRA
    assert drift.correction.status is EntitlementStatus.REVOKED
    assert drift.correction.occurred_at == NOW - timedelta(hours=1)  # not older than the row


def test_ended_row_the_provider_does_not_know_is_no_drift() -> None:
    assert find_drift(RC, [row(EntitlementStatus.REVOKED)], [], LANDS) == []


def test_correction_is_never_older_than_the_row_it_corrects() -> None:
    ledger = row(expires_at=NOW)
    late = LedgerEntry(**{**ledger.__dict__, "last_event_at": NOW + timedelta(hours=1)})
    [drift] = find_drift(RC, [late], [truth()], LANDS)
    assert drift.correction.occurred_at == NOW + timedelta(hours=1)


def test_the_same_drift_seen_twice_has_the_same_correction_id() -> None:
    first = find_drift(RC, [row(expires_at=NOW)], [truth()], LANDS)
    again = find_drift(
        RC,
        [row(expires_at=NOW)],
        [ProviderTruth(**{**truth().__dict__, "observed_at": NOW + timedelta(minutes=5)})],
        LANDS,
    )
    assert first[0].correction.update_id == again[0].correction.update_id


def test_a_new_drift_after_a_fix_gets_a_new_correction_id() -> None:
    before = row(expires_at=NOW)
    after_fix = LedgerEntry(**{**before.__dict__, "updated_at": NOW + timedelta(minutes=1)})
    first = find_drift(RC, [before], [truth()], LANDS)[0].correction.update_id
    second = find_drift(RC, [after_fix], [truth()], LANDS)[0].correction.update_id
    assert first != second


def test_a_bundle_purchase_is_corrected_once_for_all_its_children() -> None:
    child_a, child_b = uuid.UUID(int=2), uuid.UUID(int=3)
    reference = "bundle:kit:prod"
    lands = {("prod", "prod"): [(child_a, reference), (child_b, reference)]}
    ledger = [
        row(catalog_id=child_a, reference=reference),
        row(expires_at=NOW, catalog_id=child_b, reference=reference),
    ]
    drifts = find_drift(RC, ledger, [truth()], lands)
    assert [(d.key.catalog_id, d.kind) for d in drifts] == [(child_b, DriftKind.WRONG_EXPIRY)]
    missing = find_drift(RC, ledger[:1], [truth()], lands)
    assert [(d.key.catalog_id, d.kind) for d in missing] == [(child_b, DriftKind.MISSING)]
    assert len(corrections(find_drift(RC, [], [truth()], lands))) == 1


def test_a_truth_for_a_product_we_do_not_sell_lands_nowhere() -> None:
    assert find_drift(RC, [], [truth()], {}) == []


def test_rows_of_one_purchase_the_provider_does_not_know_share_one_revocation() -> None:
    reference = "bundle:kit:prod"
    children = [row(catalog_id=uuid.UUID(int=n), reference=reference) for n in (2, 3)]
    drifts = find_drift(RC, children, [], {})
    assert [d.kind for d in drifts] == [DriftKind.EXTRA, DriftKind.EXTRA]
    [revocation] = corrections(drifts)
    assert (revocation.provider_product_id, revocation.purchase_reference) == ("prod", "prod")


def test_access_ending_at_the_providers_expiry_but_not_yet_closed_is_no_drift() -> None:
    ended = NOW - timedelta(minutes=30)  # the expiration event or the sweep will close it
    assert find_drift(RC, [row(expires_at=ended)], [truth(EXPIRED, ended)], LANDS) == []
