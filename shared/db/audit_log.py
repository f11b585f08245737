"""Appends audit log rows in the caller's transaction, unsealed (shared/domain/audit.py says what a
row holds; shared/security/audit_sealer.py chains them later)."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.security_models import AuditLogRow
from shared.domain.audit import AuditEntry, audit_row_values, canonical_json

ROW_COLUMNS = (
    "occurred_at",
    "actor",
    "event",
    "subject",
    "subject_salt",
    "subject_digest",
    "details",
    "details_digest",
)
# One statement for a whole batch; WITH ORDINALITY keeps the ids (seq) in the order given.
INSERT_ROWS = text(
    "INSERT INTO audit_log (occurred_at, actor, event, subject, subject_salt, subject_digest, details, "
    "details_digest) SELECT occurred_at, actor, event, subject, subject_salt, subject_digest, "
    "CAST(details AS jsonb), details_digest FROM unnest(CAST(:occurred_at AS timestamptz[]), "
    "CAST(:actor AS text[]), CAST(:event AS text[]), CAST(:subject AS text[]), "
    "CAST(:subject_salt AS text[]), CAST(:subject_digest AS text[]), CAST(:details AS text[]), "
    "CAST(:details_digest AS text[])) "
    "WITH ORDINALITY AS r(occurred_at, actor, event, subject, subject_salt, subject_digest, details, "
    "details_digest, n) ORDER BY n"
)


async def append_audit(session: AsyncSession, entry: AuditEntry) -> int:
    """Insert ``entry`` unsealed inside the caller's transaction; returns its ``seq``."""
    stmt = insert(AuditLogRow).values(audit_row_values(entry)).returning(AuditLogRow.seq)
    seq: int = (await session.execute(stmt)).scalar_one()
    return seq


async def append_audit_rows(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many prepared rows (``audit_row_values``) in one statement, in the caller's transaction."""
    if not rows:
        return
    params: dict[str, list[Any]] = {column: [row[column] for row in rows] for column in ROW_COLUMNS}
    params["details"] = [None if d is None else canonical_json(d).decode() for d in params["details"]]
    await session.execute(INSERT_ROWS, params)
