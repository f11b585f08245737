"""The unit of work: one transaction. What is written inside it (ledger rows, processed events, the
outbox, audit rows, provider tables) commits together or not at all. Code outside ``shared/db`` opens
transactions only through it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction: committed when the block ends, rolled back when it raises."""
    async with sessions() as session, session.begin():
        yield session
