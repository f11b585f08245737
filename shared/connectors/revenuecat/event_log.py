"""RevenueCat events acknowledged without effect (TEST, unknown or record-only types), kept for review."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base


class RevenueCatUnappliedEvent(Base):
    """One row per event id; a redelivery adds nothing."""

    __tablename__ = "revenuecat_unapplied_events"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    app_user_id: Mapped[str | None] = mapped_column(String(200))
    event_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


async def record_unapplied_event(
    session: AsyncSession,
    *,
    event_id: str,
    event_type: str,
    reason: str,
    app_user_id: str | None,
    event_timestamp: datetime,
    payload: dict[str, Any],
) -> bool:
    """Record the event once; False when it already was."""
    stmt = (
        insert(RevenueCatUnappliedEvent)
        .values(
            event_id=event_id,
            event_type=event_type,
            reason=reason,
            app_user_id=app_user_id,
            event_timestamp=event_timestamp,
            payload=payload,
        )
        .on_conflict_do_nothing()
        .returning(RevenueCatUnappliedEvent.event_id)
    )
    return (await session.execute(stmt)).first() is not None
