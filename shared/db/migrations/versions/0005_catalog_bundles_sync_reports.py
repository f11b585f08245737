"""catalog: bundles, catalog file membership, sync reports

Revision ID: 0005
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_bundle_items",
        sa.Column("bundle_id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["billing_catalog.id"],
            name=op.f("fk_billing_bundle_items_bundle_id_billing_catalog"),
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["billing_catalog.id"],
            name=op.f("fk_billing_bundle_items_child_id_billing_catalog"),
        ),
        sa.PrimaryKeyConstraint("bundle_id", "child_id", name=op.f("pk_billing_bundle_items")),
    )
    op.create_index(op.f("ix_billing_bundle_items_child_id"), "billing_bundle_items", ["child_id"])
    op.create_table(
        "billing_bundles",
        sa.Column("catalog_id", sa.UUID(), nullable=False),
        sa.Column("own_price", sa.BigInteger(), nullable=True),
        sa.Column("own_provider_prices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["catalog_id"], ["billing_catalog.id"], name=op.f("fk_billing_bundles_catalog_id_billing_catalog")
        ),
        sa.PrimaryKeyConstraint("catalog_id", name=op.f("pk_billing_bundles")),
    )
    op.create_table(
        "billing_catalog_files",
        sa.Column("catalog_id", sa.UUID(), nullable=False),
        sa.Column("catalog_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["catalog_id"],
            ["billing_catalog.id"],
            name=op.f("fk_billing_catalog_files_catalog_id_billing_catalog"),
        ),
        sa.PrimaryKeyConstraint("catalog_id", name=op.f("pk_billing_catalog_files")),
    )
    op.create_index(op.f("ix_billing_catalog_files_catalog_name"), "billing_catalog_files", ["catalog_name"])
    op.create_table(
        "catalog_sync_reports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("differences", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pushed", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("failed", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_sync_reports")),
    )
    op.create_index(op.f("ix_catalog_sync_reports_finished_at"), "catalog_sync_reports", ["finished_at"])


def downgrade() -> None:
    op.drop_table("catalog_sync_reports")
    op.drop_table("billing_catalog_files")
    op.drop_table("billing_bundles")
    op.drop_table("billing_bundle_items")
