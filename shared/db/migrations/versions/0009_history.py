"""entitlement history: append-only, one row per update taken in, backfilled from the ledger

Revision ID: 0009_history
Revises: 0008_idempotency_keys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_history"
down_revision: str | None = "0008_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Append-only: rows are never deleted or changed, except erasure's pseudonymisation (the user id
# becomes an ``erased:`` pseudonym, the free-text reason is cleared, event ids naming the user rewritten).
GUARD_FUNCTION = """
CREATE FUNCTION entitlement_history_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
    RAISE EXCEPTION 'entitlement_history is append-only';
  END IF;
  IF NEW.user_id NOT LIKE 'erased:%' OR NEW.status_reason IS NOT NULL
     OR (NEW.seq, NEW.entitlement_id, NEW.catalog_id, NEW.source_provider, NEW.purchase_reference,
         NEW.status, NEW.provider_event_type, NEW.applied)
        IS DISTINCT FROM (OLD.seq, OLD.entitlement_id, OLD.catalog_id, OLD.source_provider,
         OLD.purchase_reference, OLD.status, OLD.provider_event_type, OLD.applied)
     OR (NEW.activated_at, NEW.expires_at, NEW.occurred_at, NEW.recorded_at, NEW.announced)
        IS DISTINCT FROM (OLD.activated_at, OLD.expires_at, OLD.occurred_at, OLD.recorded_at,
         OLD.announced) THEN
    RAISE EXCEPTION 'entitlement_history rows may only be pseudonymised';
  END IF;
  RETURN NEW;
END $$;
"""

# One row per ledger row, as of its newest applied update: what we knew before history was kept.
BACKFILL = """
INSERT INTO entitlement_history (entitlement_id, user_id, catalog_id, source_provider, purchase_reference,
  status, activated_at, expires_at, status_reason, provider_event_id, provider_event_type, occurred_at,
  recorded_at, applied, announced)
SELECT id, user_id, catalog_id, source_provider, purchase_reference, status, activated_at, expires_at,
  status_reason, NULL, 'backfill', last_event_at, updated_at, true, NULL
FROM user_entitlements ORDER BY last_event_at, id
"""


def upgrade() -> None:
    op.create_table(
        "entitlement_history",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entitlement_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("catalog_id", sa.UUID(), nullable=False),
        sa.Column("source_provider", sa.String(length=20), nullable=False),
        sa.Column("purchase_reference", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("provider_event_id", sa.String(length=300), nullable=True),
        sa.Column("provider_event_type", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("announced", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["catalog_id"],
            ["billing_catalog.id"],
            name=op.f("fk_entitlement_history_catalog_id_billing_catalog"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_entitlement_history")),
    )
    op.create_index("ix_entitlement_history_user_occurred", "entitlement_history", ["user_id", "occurred_at"])
    op.execute(BACKFILL)
    op.execute(GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER entitlement_history_append_only BEFORE UPDATE OR DELETE ON entitlement_history "
        "FOR EACH ROW EXECUTE FUNCTION entitlement_history_guard()"
    )
    op.execute(
        "CREATE TRIGGER entitlement_history_no_truncate BEFORE TRUNCATE ON entitlement_history "
        "FOR EACH STATEMENT EXECUTE FUNCTION entitlement_history_guard()"
    )


def downgrade() -> None:
    op.drop_table("entitlement_history")
    op.execute("DROP FUNCTION entitlement_history_guard()")
