"""telemetry rollups: per hour, pack, provider, market; latency buckets; processed event ids

Revision ID: 0010_telemetry
Revises: 0009_history
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_telemetry"
down_revision: str | None = "0009_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOUR = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "telemetry_rollups",
        sa.Column("hour", HOUR, primary_key=True),
        sa.Column("metric", sa.String(40), primary_key=True),
        sa.Column("pack", sa.String(200), primary_key=True),
        sa.Column("provider", sa.String(20), primary_key=True),
        sa.Column("market", sa.String(2), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("amount_msat", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "telemetry_latency_buckets",
        sa.Column("hour", HOUR, primary_key=True),
        sa.Column("metric", sa.String(40), primary_key=True),
        sa.Column("provider", sa.String(20), primary_key=True),
        sa.Column("le_ms", sa.Integer, primary_key=True),
        sa.Column("events", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "telemetry_processed_events",
        sa.Column("event_key", sa.String(250), primary_key=True),
        sa.Column("processed_at", HOUR, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "telemetry_latency_pairs",
        sa.Column("update_key", sa.String(64), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("received_at", HOUR),
        sa.Column("committed_at", HOUR),
        sa.Column("sampled", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    for table in ("telemetry_latency_pairs", "telemetry_processed_events", "telemetry_latency_buckets"):
        op.drop_table(table)
    op.drop_table("telemetry_rollups")
