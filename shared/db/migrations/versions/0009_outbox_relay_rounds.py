"""outbox relay rounds: a sequence each publishing round draws from, so a relay sees another ran

Revision ID: 0009_outbox_relay_rounds
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_outbox_relay_rounds"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A sequence, not a counter row: nextval survives a rolled-back round, which is the round
    # whose Kafka sends may be on the topic while its rows still look unpublished.
    op.execute("CREATE SEQUENCE outbox_relay_rounds")


def downgrade() -> None:
    op.execute("DROP SEQUENCE outbox_relay_rounds")
