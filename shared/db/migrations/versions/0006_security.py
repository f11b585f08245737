"""security: api keys, append-only hash-chained audit log, erasure records

Revision ID: 0006
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Append-only: no DELETE/TRUNCATE; an UPDATE may only purge details (retention) or replace the
# subject by an "erased:" pseudonym and drop its salt (erasure). Everything hashed stays as written.
GUARD_FUNCTION = """
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  IF NEW.seq <> OLD.seq OR NEW.occurred_at <> OLD.occurred_at OR NEW.actor <> OLD.actor
     OR NEW.event <> OLD.event OR NEW.subject_digest <> OLD.subject_digest
     OR NEW.details_digest <> OLD.details_digest OR NEW.prev_hash <> OLD.prev_hash
     OR NEW.row_hash <> OLD.row_hash THEN
    RAISE EXCEPTION 'audit_log rows are immutable';
  END IF;
  IF NEW.details IS DISTINCT FROM OLD.details AND NEW.details IS NOT NULL THEN
    RAISE EXCEPTION 'audit_log details may only be purged';
  END IF;
  IF NEW.subject IS DISTINCT FROM OLD.subject
     AND (NEW.subject NOT LIKE 'erased:%' OR NEW.subject_salt IS NOT NULL) THEN
    RAISE EXCEPTION 'audit_log subjects may only be pseudonymised';
  END IF;
  RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("subject_salt", sa.String(length=32), nullable=True),
        sa.Column("subject_digest", sa.String(length=64), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("details_digest", sa.String(length=64), nullable=False),
        sa.Column("details_purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_event"), "audit_log", ["event"])
    op.create_index(op.f("ix_audit_log_subject"), "audit_log", ["subject"])
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])
    op.execute(GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard()"
    )
    op.create_table(
        "erasures",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_erasures_pseudonym")),
    )


def downgrade() -> None:
    op.drop_table("erasures")
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_guard()")
    op.drop_table("api_keys")
