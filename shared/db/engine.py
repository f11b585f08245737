"""Async engine and session factory (asyncpg)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.observability.tracing import trace_engine

# Every wait on Postgres is bounded, so a hung query, a lock held by a stuck session or a dead
# server fails (and is retried as transient, shared/messaging/failures.py) instead of holding a
# consumer or a request forever. The server cancels first (statement_timeout), cleanly; the
# client's command_timeout is the backstop for a server that stopped answering.
CONNECT_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_MS = 30_000
LOCK_TIMEOUT_MS = 20_000
COMMAND_TIMEOUT_S = 40.0


def create_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        pool_pre_ping=True,
        connect_args={
            "timeout": CONNECT_TIMEOUT_S,
            "command_timeout": COMMAND_TIMEOUT_S,
            "server_settings": {
                "statement_timeout": str(STATEMENT_TIMEOUT_MS),
                "lock_timeout": str(LOCK_TIMEOUT_MS),
            },
        },
    )
    trace_engine(engine)  # statement spans when tracing is on (shared/observability/tracing.py)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def command_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """One session on a one-connection engine for a CLI command, disposed when it ends."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()
