"""Sealing the audit log into its hash chain, and verifying the chain against its newest anchor.

Sealing gives each unsealed row, in id order, the next chain position and ``row_hash =
H(prev_hash, seq, time, actor, event, subject digest, details digest)``. Only one sealer works at a
time (a transaction-scoped try-lock: a second sealer skips its round instead of queueing, and the
lock can never outlive the transaction). A row that commits after a higher id was sealed simply gets
the next position: chain order is seal order, so no committed row is ever skipped.

Verification walks the chain by position: a gap, a broken link or a row whose fields no longer match
its hash names the row. Rows removed from the end leave an intact but shorter chain, so the newest
anchor (the head published outside the database, shared/messaging/audit_anchors.py) must still be in
it with the same hash.
"""

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.security_models import AuditLogRow
from shared.domain.audit import (
    ERASED_PREFIX,
    GENESIS_HASH,
    Anchor,
    ChainHead,
    chain_hash,
    details_digest,
    subject_digest,
)

# pg_try_advisory_xact_lock key of the one sealer; no writer ever takes it.
AUDIT_SEALER_LOCK = 0x61756469745345  # "auditSE" in ASCII
TRY_SEALER_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
SEALED_HEAD = text(
    "SELECT chain_pos, row_hash FROM audit_log WHERE chain_pos IS NOT NULL ORDER BY chain_pos DESC LIMIT 1"
)
UNSEALED = text(
    "SELECT seq, occurred_at, actor, event, subject_digest, details_digest FROM audit_log "
    "WHERE chain_pos IS NULL ORDER BY seq LIMIT :limit"
)
SEAL = text(
    "UPDATE audit_log SET chain_pos = sealed.chain_pos, prev_hash = sealed.prev_hash, "
    "row_hash = sealed.row_hash FROM unnest(CAST(:seqs AS bigint[]), CAST(:positions AS bigint[]), "
    "CAST(:prevs AS text[]), CAST(:hashes AS text[])) AS sealed(seq, chain_pos, prev_hash, row_hash) "
    "WHERE audit_log.seq = sealed.seq"
)


async def seal_pending(session: AsyncSession, limit: int = 2000) -> tuple[ChainHead, int] | None:
    """Seal up to ``limit`` rows in the caller's transaction: the head after it and how many were sealed.

    None when another sealer holds the lock (this round is skipped, nothing waits).
    """
    if not (await session.execute(TRY_SEALER_LOCK, {"key": AUDIT_SEALER_LOCK})).scalar_one():
        return None
    head_row = (await session.execute(SEALED_HEAD)).first()
    head = ChainHead(head_row[0], head_row[1]) if head_row else ChainHead(0, GENESIS_HASH)
    rows = (await session.execute(UNSEALED, {"limit": limit})).all()
    if not rows:
        return head, 0
    seqs, positions, prevs, hashes = [], [], [], []
    position, prev = head.position, head.row_hash
    for seq, occurred_at, actor, event, subj, det in rows:
        position += 1
        row_hash = chain_hash(prev, seq, occurred_at, actor, event, subj, det)
        seqs.append(seq)
        positions.append(position)
        prevs.append(prev)
        hashes.append(row_hash)
        prev = row_hash
    await session.execute(SEAL, {"seqs": seqs, "positions": positions, "prevs": prevs, "hashes": hashes})
    return ChainHead(position, prev), len(rows)


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    head_hash: str
    unsealed: int = 0
    anchor: Anchor | None = None
    broken_at_seq: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.reason is None


def content_problem(row: AuditLogRow) -> str | None:
    """Why the stored subject or details no longer match their digests; None when they do."""
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
    return None


def row_problem(row: AuditLogRow, expected_prev: str) -> str | None:
    """Why sealed ``row`` does not belong after a row hashed ``expected_prev``; None when it does."""
    if row.prev_hash != expected_prev:
        return "prev_hash does not match the previous row (a row was removed, inserted or re-hashed)"
    problem = content_problem(row)
    if problem is not None:
        return problem
    recomputed = chain_hash(
        expected_prev, row.seq, row.occurred_at, row.actor, row.event, row.subject_digest, row.details_digest
    )
    if recomputed != row.row_hash:
        return "row_hash does not match the row's fields"
    return None


async def verify_audit_chain(
    session: AsyncSession, anchor: Anchor | None = None, batch_size: int = 1000
) -> ChainReport:
    """Walk the sealed chain in order, check the unsealed rows' digests and the newest ``anchor``."""
    expected_prev, position, at_anchor = GENESIS_HASH, 0, None
    sealed = await session.stream_scalars(
        select(AuditLogRow)
        .where(AuditLogRow.chain_pos.is_not(None))
        .order_by(AuditLogRow.chain_pos)
        .execution_options(yield_per=batch_size)
    )
    async for row in sealed:
        if row.chain_pos != position + 1:
            reason = f"chain position {position + 1} is missing (a sealed row was removed)"
            return ChainReport(position, expected_prev, anchor=anchor, broken_at_seq=row.seq, reason=reason)
        problem = row_problem(row, expected_prev)
        if problem is not None:
            return ChainReport(position, expected_prev, anchor=anchor, broken_at_seq=row.seq, reason=problem)
        expected_prev, position = row.row_hash or "", position + 1
        if anchor is not None and position == anchor.position:
            at_anchor = row.row_hash
    unsealed = 0
    pending = await session.stream_scalars(
        select(AuditLogRow).where(AuditLogRow.chain_pos.is_(None)).order_by(AuditLogRow.seq)
    )
    async for row in pending:
        problem = content_problem(row)
        if problem is not None:
            return ChainReport(position, expected_prev, unsealed, anchor, row.seq, f"unsealed row: {problem}")
        unsealed += 1
    report = ChainReport(position, expected_prev, unsealed, anchor)
    if anchor is None or anchor.position == 0:
        return report
    if position < anchor.position:
        reason = (
            f"the chain ends at position {position} but the anchor published at "
            f"{anchor.sealed_at.isoformat()} names position {anchor.position} (sealed rows were removed)"
        )
        return ChainReport(position, expected_prev, unsealed, anchor, reason=reason)
    if at_anchor != anchor.row_hash:
        reason = f"position {anchor.position} no longer has the anchored hash (the chain was rewritten)"
        return ChainReport(position, expected_prev, unsealed, anchor, reason=reason)
    return report
