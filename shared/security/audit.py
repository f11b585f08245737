"""The audit log: append-only billing events in a hash chain, and its verification.

Each row's ``row_hash`` covers the previous row's hash, its own sequence number, time, actor, event
and the digests of subject and details. Appends take a transaction-scoped advisory lock, so
concurrent writers queue up and the chain never forks; the caller's transaction holds the lock
until it commits, so an entitlement change and its audit row commit (or roll back) together.
"""

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.security.tables import AuditLogRow

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key reserved for the audit chain ("audit" in ASCII).
AUDIT_CHAIN_LOCK = 0x6175646974
ERASED_PREFIX = "erased:"
LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:key)")
HEAD_AND_NEXT_SEQ = text(
    "SELECT (SELECT row_hash FROM audit_log ORDER BY seq DESC LIMIT 1), "
    "nextval(pg_get_serial_sequence('audit_log', 'seq'))"
)


@dataclass(frozen=True)
class AuditEntry:
    actor: str  # "apikey:<id>", "provider:revenuecat", "cli:<os user>", "service:worker" …
    event: str  # "webhook.verified", "entitlement.changed", "secret.rotated" …
    subject: str  # "user:<id>", "secret:<name>", "apikey:<id>", "webhook:<provider>" …
    details: Mapping[str, Any] | None = None


def user_subject(user_id: str) -> str:
    return f"user:{user_id}"


def canonical_json(value: Any) -> bytes:
    """One byte form per JSON value (sorted keys, no spaces), the same before and after JSONB."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def details_digest(details: Mapping[str, Any] | None) -> str:
    return hashlib.sha256(canonical_json(details)).hexdigest()


def subject_digest(salt: str, subject: str) -> str:
    return hashlib.sha256(f"{salt}\x1f{subject}".encode()).hexdigest()


def _time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def chain_hash(
    prev_hash: str, seq: int, occurred_at: datetime, actor: str, event: str, subj_digest: str, det_digest: str
) -> str:
    fields = [prev_hash, str(seq), _time_text(occurred_at), actor, event, subj_digest, det_digest]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


async def append_audit(session: AsyncSession, entry: AuditEntry) -> AuditLogRow:
    """Append ``entry`` inside the caller's transaction (the chain lock is held until it ends)."""
    await session.execute(LOCK_CHAIN, {"key": AUDIT_CHAIN_LOCK})
    # A statement of its own after the lock: under READ COMMITTED it sees the last committed head.
    last, seq = (await session.execute(HEAD_AND_NEXT_SEQ)).one()
    prev_hash = last or GENESIS_HASH
    # Stored exactly as hashed: round-trip through canonical JSON (datetimes etc. become strings).
    details = json.loads(canonical_json(dict(entry.details))) if entry.details is not None else None
    salt = secrets.token_hex(16)
    occurred_at = datetime.now(UTC)
    subj = subject_digest(salt, entry.subject)
    det = details_digest(details)
    row = AuditLogRow(
        seq=seq,
        occurred_at=occurred_at,
        actor=entry.actor,
        event=entry.event,
        subject=entry.subject,
        subject_salt=salt,
        subject_digest=subj,
        details=details,
        details_digest=det,
        prev_hash=prev_hash,
        row_hash=chain_hash(prev_hash, seq, occurred_at, entry.actor, entry.event, subj, det),
    )
    await session.execute(insert(AuditLogRow), [_column_values(row)])
    return row


def _column_values(row: AuditLogRow) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in AuditLogRow.__table__.columns}


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    head_hash: str
    broken_at_seq: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at_seq is None


def row_problem(row: AuditLogRow, expected_prev: str) -> str | None:
    """Why ``row`` does not belong after a row hashed ``expected_prev``; None when it does."""
    if row.prev_hash != expected_prev:
        return "prev_hash does not match the previous row (a row was removed, inserted or re-hashed)"
    if row.subject_salt is not None:
        if subject_digest(row.subject_salt, row.subject) != row.subject_digest:
            return "subject differs from what was hashed"
    elif not row.subject.startswith(ERASED_PREFIX):
        return "subject has no salt but is not an erasure pseudonym"
    if row.details is not None:
        if details_digest(row.details) != row.details_digest:
            return "details differ from what was hashed"
    elif row.details_purged_at is None and row.details_digest != details_digest(None):
        return "details are missing but were never purged"
    recomputed = chain_hash(
        row.prev_hash, row.seq, row.occurred_at, row.actor, row.event, row.subject_digest, row.details_digest
    )
    if recomputed != row.row_hash:
        return "row_hash does not match the row's fields"
    return None


async def verify_audit_chain(session: AsyncSession, batch_size: int = 1000) -> ChainReport:
    """Walk the whole chain in order; report the first row that breaks it."""
    expected_prev = GENESIS_HASH
    checked = 0
    result = await session.stream_scalars(
        select(AuditLogRow).order_by(AuditLogRow.seq).execution_options(yield_per=batch_size)
    )
    async for row in result:
        problem = row_problem(row, expected_prev)
        if problem is not None:
            return ChainReport(checked, expected_prev, row.seq, problem)
        expected_prev = row.row_hash
        checked += 1
    return ChainReport(checked, expected_prev)
