"""A migrated database of its own for a test whose processes must not share the session's one
(say a second outbox relay, which takes a per-database lock)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from apps.stack.processes import create_session_database, drop_session_database
from shared.db.migrate import upgrade_to_heads


@asynccontextmanager
async def own_database(run_id: str) -> AsyncIterator[str]:
    """Yields the name of a fresh, migrated database; dropped afterwards."""
    name = f"billing_test_{run_id}_{uuid.uuid4().hex[:6]}"
    await create_session_database(name)
    try:
        await asyncio.to_thread(upgrade_to_heads, database_url(name))
        yield name
    finally:
        await drop_session_database(name)


def database_url(name: str, port: int = 55432) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{name}"
