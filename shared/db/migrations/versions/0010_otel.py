"""outbox.traceparent: the W3C trace context of the transaction that wrote the row, so the relay's
publish joins the trace of the webhook that caused it

Revision ID: 0010_otel
Revises: 0009_history
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_otel"
down_revision: str | None = "0009_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "traceparent")
