"""lightning receipts: the BOLT11, payment hash, preimage (or the provider's word) of each settlement

Revision ID: 0009_receipts
Revises: 0008_idempotency_keys (and needs 0004, which made lightning_invoices)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_receipts"
down_revision: str | None = "0008_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0004"


def upgrade() -> None:
    op.create_table(
        "lightning_receipts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("purchase_reference", sa.String(length=200), nullable=False),
        sa.Column("backend", sa.String(length=10), nullable=False),
        sa.Column("bolt11", sa.Text(), nullable=False),
        sa.Column("payment_hash", sa.String(length=64), nullable=False),
        sa.Column("preimage", sa.String(length=64), nullable=True),
        sa.Column("proof", sa.String(length=30), nullable=False),
        sa.Column("amount_msat", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid_msat", sa.BigInteger(), nullable=False),
        sa.Column("node_pubkey", sa.String(length=66), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["lightning_invoices.id"],
            name=op.f("fk_lightning_receipts_invoice_id_lightning_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lightning_receipts")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_lightning_receipts_invoice_id")),
        sa.UniqueConstraint("payment_hash", name=op.f("uq_lightning_receipts_payment_hash")),
    )
    op.create_index(op.f("ix_lightning_receipts_user_id"), "lightning_receipts", ["user_id"])
    op.create_index(
        op.f("ix_lightning_receipts_purchase_reference"), "lightning_receipts", ["purchase_reference"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_lightning_receipts_purchase_reference"), table_name="lightning_receipts")
    op.drop_index(op.f("ix_lightning_receipts_user_id"), table_name="lightning_receipts")
    op.drop_table("lightning_receipts")
