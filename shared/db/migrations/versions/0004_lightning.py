"""lightning invoices, deliveries and refunds; index for the expiry sweeper

Revision ID: 0004
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "lightning_invoices",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("checkout_session_id", sa.UUID(), nullable=False),
        sa.Column("backend", sa.String(length=10), nullable=False),
        sa.Column("provider_invoice_id", sa.String(length=200), nullable=False),
        sa.Column("payment_hash", sa.String(length=64), nullable=False),
        sa.Column("bolt11", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("catalog_id", sa.UUID(), nullable=False),
        sa.Column("provider_product_id", sa.String(length=200), nullable=False),
        sa.Column("purchase_reference", sa.String(length=200), nullable=False),
        sa.Column("amount_msat", sa.BigInteger(), nullable=False),
        sa.Column("fiat_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("fiat_currency", sa.String(length=3), nullable=True),
        sa.Column("quote_id", sa.String(length=64), nullable=True),
        sa.Column("quote_rate", sa.String(length=40), nullable=True),
        sa.Column("lnurl_metadata", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("provider_status", sa.String(length=30), nullable=True),
        sa.Column("provider_additional_status", sa.String(length=30), nullable=True),
        sa.Column("amount_paid_msat", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grants_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("poll_count", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["catalog_id"],
            ["billing_catalog.id"],
            name=op.f("fk_lightning_invoices_catalog_id_billing_catalog"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lightning_invoices")),
        sa.UniqueConstraint("backend", "provider_invoice_id", name=op.f("uq_lightning_invoices_backend")),
        sa.UniqueConstraint("payment_hash", name=op.f("uq_lightning_invoices_payment_hash")),
    )
    op.create_index(
        op.f("ix_lightning_invoices_checkout_session_id"), "lightning_invoices", ["checkout_session_id"]
    )
    op.create_index(
        op.f("ix_lightning_invoices_purchase_reference"), "lightning_invoices", ["purchase_reference"]
    )
    op.create_index(
        "ix_lightning_invoices_next_poll_at",
        "lightning_invoices",
        ["next_poll_at"],
        postgresql_where=sa.text("next_poll_at IS NOT NULL"),
    )
    op.create_table(
        "lightning_deliveries",
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("invoice_ref", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=50), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("dedupe_key", name=op.f("pk_lightning_deliveries")),
    )
    op.create_table(
        "lightning_refunds",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("pull_payment_id", sa.String(length=200), nullable=False),
        sa.Column("payout_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("view_link", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["lightning_invoices.id"],
            name=op.f("fk_lightning_refunds_invoice_id_lightning_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lightning_refunds")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_lightning_refunds_invoice_id")),
        sa.UniqueConstraint("pull_payment_id", name=op.f("uq_lightning_refunds_pull_payment_id")),
    )
    # The expiry sweeper's query: active entitlements by expiry time.
    op.create_index(
        "ix_user_entitlements_active_expires_at",
        "user_entitlements",
        ["expires_at"],
        postgresql_where=sa.text("status = 'active' AND expires_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_user_entitlements_active_expires_at", table_name="user_entitlements")
    op.drop_table("lightning_refunds")
    op.drop_table("lightning_deliveries")
    op.drop_table("lightning_invoices")
