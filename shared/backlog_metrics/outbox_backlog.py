"""The outbox's backlog: rows the relay has not published yet, and how long the oldest has waited."""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# The partial index ix_outbox_unpublished_seq holds exactly these rows, so this stays cheap.
BACKLOG = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
    "FROM outbox WHERE published_at IS NULL"
)


@dataclass(frozen=True)
class OutboxBacklog:
    rows: int
    oldest_age_s: float


async def outbox_backlog(sessions: async_sessionmaker[AsyncSession]) -> OutboxBacklog:
    async with sessions() as session:
        rows, age = (await session.execute(BACKLOG)).one()
    return OutboxBacklog(int(rows), max(0.0, float(age)))
