"""Tables of the security controls: API keys, the audit log (hash-chained) and erasure records."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base


class ApiKey(Base):
    """A gateway API key, stored as the SHA-256 of the key; ``user_id`` set = a user-scoped token."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # The key's public part ("bk_<prefix>_…"), shown in listings so an operator can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(200), index=True)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditLogRow(Base):
    """One billing event; once sealed, ``row_hash`` chains it to the row before (see audit_chain.py).

    Rows are inserted unsealed (no chain position or hashes) without any lock; the one sealer gives
    them ``chain_pos``, ``prev_hash`` and ``row_hash`` in id order. The chain covers digests of subject
    and details, so erasure (subject pseudonymised, salt dropped) and retention (details purged) keep
    it verifiable. A trigger refuses every other change.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_unsealed_seq", "seq", postgresql_where=text("chain_pos IS NULL")),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    event: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    subject_salt: Mapped[str | None] = mapped_column(String(32))
    subject_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    details_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    details_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    chain_pos: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class ErasureRecord(Base):
    """An erasure carried out: the pseudonym the user's kept rows now carry, never the user id."""

    __tablename__ = "erasures"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    erased_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
