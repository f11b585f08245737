"""Indexes that age the telemetry consumer's dedupe claims and latency pairs, so the retention job
(shared/db/pruning.py) deletes the spent ones without scanning the tables

Revision ID: 0011_telemetry_pruning
Revises: 0010_telemetry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_telemetry_pruning"
down_revision: str | None = "0010_telemetry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_telemetry_processed_events_processed_at", "telemetry_processed_events", ["processed_at"]
    )
    op.create_index(
        "ix_telemetry_latency_pairs_seen_at",
        "telemetry_latency_pairs",
        [sa.text("coalesce(committed_at, received_at)")],
    )


def downgrade() -> None:
    op.drop_index("ix_telemetry_latency_pairs_seen_at", table_name="telemetry_latency_pairs")
    op.drop_index("ix_telemetry_processed_events_processed_at", table_name="telemetry_processed_events")
