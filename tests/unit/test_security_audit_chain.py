"""The audit hash chain, row by row (the database walk is tested end to end)."""

import secrets
from datetime import UTC, datetime

from shared.db.security_models import AuditLogRow
from shared.domain.audit import GENESIS_HASH, chain_hash, details_digest, subject_digest
from shared.security.audit_chain import row_problem


def audit_row(prev_hash: str = GENESIS_HASH, seq: int = 1, details: dict | None = None) -> AuditLogRow:  # type: ignore[type-arg]
    details = details if details is not None else {"pack_slug": "try-on", "to": "active"}
    salt = secrets.token_hex(16)
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    subj, det = subject_digest(salt, "user:alice"), details_digest(details)
    return AuditLogRow(
        seq=seq,
        occurred_at=at,
        actor="provider:revenuecat",
        event="entitlement.changed",
        subject="user:alice",
        subject_salt=salt,
        subject_digest=subj,
        details=details,
        details_digest=det,
        details_purged_at=None,
        prev_hash=prev_hash,
        row_hash=chain_hash(prev_hash, seq, at, "provider:revenuecat", "entitlement.changed", subj, det),
    )


def test_untouched_row_belongs_to_the_chain() -> None:
    assert row_problem(audit_row(), GENESIS_HASH) is None


def test_edited_details_are_detected() -> None:
    row = audit_row()
    row.details = {"pack_slug": "try-on", "to": "revoked"}
    assert row_problem(row, GENESIS_HASH) == "details differ from what was hashed"


def test_edited_event_is_detected() -> None:
    row = audit_row()
    row.event = "entitlement.granted_for_free"
    assert row_problem(row, GENESIS_HASH) == "row_hash does not match the row's fields"


def test_removed_predecessor_is_detected() -> None:
    assert row_problem(audit_row(prev_hash="ab" * 32, seq=3), "cd" * 32) is not None


def test_purged_details_keep_the_chain_verifiable() -> None:
    row = audit_row()
    row.details, row.details_purged_at = None, datetime.now(UTC)
    assert row_problem(row, GENESIS_HASH) is None


def test_erased_subject_keeps_the_chain_verifiable() -> None:
    row = audit_row()
    row.subject, row.subject_salt = "erased:0f0f", None
    assert row_problem(row, GENESIS_HASH) is None


def test_subject_swapped_for_another_user_is_detected() -> None:
    row = audit_row()
    row.subject = "user:mallory"
    assert row_problem(row, GENESIS_HASH) == "subject differs from what was hashed"


def test_details_digest_ignores_key_order() -> None:
    assert details_digest({"a": 1, "b": [1, 2]}) == details_digest({"b": [1, 2], "a": 1})
