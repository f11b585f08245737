"""audit log sealed asynchronously: rows are inserted unchained, one sealer chains them later

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0006, plus sealing: an unsealed row (no row_hash yet) may get its chain position and hashes
# once; after that they are as immutable as everything else that is hashed.
GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  IF NEW.seq <> OLD.seq OR NEW.occurred_at <> OLD.occurred_at OR NEW.actor <> OLD.actor
     OR NEW.event <> OLD.event OR NEW.subject_digest <> OLD.subject_digest
     OR NEW.details_digest <> OLD.details_digest THEN
    RAISE EXCEPTION 'audit_log rows are immutable';
  END IF;
  IF OLD.row_hash IS NOT NULL AND (NEW.prev_hash IS DISTINCT FROM OLD.prev_hash
     OR NEW.row_hash IS DISTINCT FROM OLD.row_hash OR NEW.chain_pos IS DISTINCT FROM OLD.chain_pos) THEN
    RAISE EXCEPTION 'audit_log rows are immutable once sealed';
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

PREVIOUS_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
    op.add_column("audit_log", sa.Column("chain_pos", sa.BigInteger(), nullable=True))
    op.create_unique_constraint(op.f("uq_audit_log_chain_pos"), "audit_log", ["chain_pos"])
    op.alter_column("audit_log", "prev_hash", nullable=True)
    op.alter_column("audit_log", "row_hash", nullable=True)
    # The sealer's scan: unsealed rows in id order.
    op.create_index(
        "ix_audit_log_unsealed_seq", "audit_log", ["seq"], postgresql_where=sa.text("chain_pos IS NULL")
    )
    # Rows chained before this revision were chained in seq order under the old lock.
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.execute(
        "UPDATE audit_log SET chain_pos = ordered.position FROM "
        "(SELECT seq, row_number() OVER (ORDER BY seq) AS position FROM audit_log) AS ordered "
        "WHERE audit_log.seq = ordered.seq"
    )
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    op.execute(GUARD_FUNCTION)


def downgrade() -> None:
    op.execute(PREVIOUS_GUARD_FUNCTION)
    op.drop_index("ix_audit_log_unsealed_seq", table_name="audit_log")
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    # Unsealed rows cannot be represented in the old schema; a downgrade keeps the sealed ones.
    op.execute("DELETE FROM audit_log WHERE row_hash IS NULL")
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    op.alter_column("audit_log", "row_hash", nullable=False)
    op.alter_column("audit_log", "prev_hash", nullable=False)
    op.drop_constraint(op.f("uq_audit_log_chain_pos"), "audit_log", type_="unique")
    op.drop_column("audit_log", "chain_pos")
