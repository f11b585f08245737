"""The entitlement history: one append-only row per update the ledger took in, for "what did U hold at T".

Each row is the state one provider update says an entitlement was in from ``occurred_at`` (the
provider's clock) on, and ``recorded_at`` is when we learned it (ours). An update older than the
ledger's state is kept too (``applied`` false): it changes the answer for the past, never the present.
"""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Index, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base


class EntitlementHistory(Base):
    __tablename__ = "entitlement_history"
    __table_args__ = (Index("ix_entitlement_history_user_occurred", "user_id", "occurred_at"),)

    # Recording order: of two rows with the same ``occurred_at`` the later one wins, as in the ledger.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entitlement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[str] = mapped_column(String(200), nullable=False)
    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_catalog.id"), nullable=False)
    source_provider: Mapped[str] = mapped_column(String(20), nullable=False)
    purchase_reference: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Null for rows backfilled from the ledger by migration 0009 (no event is known for them).
    provider_event_id: Mapped[str | None] = mapped_column(String(300))
    provider_event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # False: older than the state the ledger already held, so it changed only the past.
    applied: Mapped[bool] = mapped_column(Boolean, nullable=False)
    announced: Mapped[str | None] = mapped_column(String(100))  # the entitlement event it announced
