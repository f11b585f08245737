"""initial schema

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_catalog",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("feature_flags", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("default_price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("billing_kind", sa.String(length=20), nullable=False),
        sa.Column("billing_period", sa.String(length=20), nullable=True),
        sa.Column("visuals", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_catalog")),
        sa.UniqueConstraint("slug", name=op.f("uq_billing_catalog_slug")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("seq", name=op.f("uq_outbox_seq")),
    )
    op.create_index(
        "ix_outbox_unpublished_seq",
        "outbox",
        ["seq"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_event_id", sa.String(length=300), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("provider", "provider_event_id", name=op.f("pk_processed_events")),
    )
    op.create_table(
        "billing_catalog_provider",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("catalog_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_product_id", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("provider_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["catalog_id"],
            ["billing_catalog.id"],
            name=op.f("fk_billing_catalog_provider_catalog_id_billing_catalog"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_catalog_provider")),
        sa.UniqueConstraint(
            "provider", "provider_product_id", name=op.f("uq_billing_catalog_provider_provider")
        ),
    )
    op.create_index(
        op.f("ix_billing_catalog_provider_catalog_id"),
        "billing_catalog_provider",
        ["catalog_id"],
        unique=False,
    )
    op.create_table(
        "user_entitlements",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("catalog_id", sa.UUID(), nullable=False),
        sa.Column("source_provider", sa.String(length=20), nullable=False),
        sa.Column("purchase_reference", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["catalog_id"],
            ["billing_catalog.id"],
            name=op.f("fk_user_entitlements_catalog_id_billing_catalog"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_entitlements")),
        sa.UniqueConstraint(
            "user_id",
            "catalog_id",
            "source_provider",
            "purchase_reference",
            name=op.f("uq_user_entitlements_user_id"),
        ),
    )
    op.create_index(op.f("ix_user_entitlements_user_id"), "user_entitlements", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_user_entitlements_user_id"), table_name="user_entitlements")
    op.drop_table("user_entitlements")
    op.drop_index(op.f("ix_billing_catalog_provider_catalog_id"), table_name="billing_catalog_provider")
    op.drop_table("billing_catalog_provider")
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished_seq", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("billing_catalog")
