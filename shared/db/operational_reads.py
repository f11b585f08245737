"""Read-only figures for ``billing status``: the outbox's backlog and each provider's last catalog sync."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.catalog_models import CatalogSyncReport
from shared.db.models import Outbox


@dataclass(frozen=True)
class OutboxBacklog:
    unpublished: int
    oldest_created_at: datetime | None


@dataclass(frozen=True)
class LastCatalogSync:
    provider: str
    status: str
    trigger: str
    finished_at: datetime
    failed: int


async def outbox_backlog(session: AsyncSession) -> OutboxBacklog:
    row = (
        await session.execute(
            select(func.count(), func.min(Outbox.created_at)).where(Outbox.published_at.is_(None))
        )
    ).one()
    return OutboxBacklog(unpublished=row[0], oldest_created_at=row[1])


async def last_catalog_syncs(session: AsyncSession) -> list[LastCatalogSync]:
    """The newest report of each provider, by provider name."""
    newest = (
        select(CatalogSyncReport)
        .distinct(CatalogSyncReport.provider)
        .order_by(CatalogSyncReport.provider, CatalogSyncReport.finished_at.desc())
    )
    return [
        LastCatalogSync(r.provider, r.status, r.trigger, r.finished_at, len(r.failed))
        for r in (await session.execute(newest)).scalars()
    ]
