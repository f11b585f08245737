"""Security test helpers: API keys, the audit log, a database-wide search, the ``billing`` CLI."""

import subprocess
import sys
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.processes import REPO_ROOT, settings_env
from apps.stack.seed import UNLIMITED_PER_MINUTE
from shared.security.api_keys import IssuedKey, Scope, create_api_key
from shared.settings import Settings


async def create_key(
    sessions: async_sessionmaker[AsyncSession],
    scopes: frozenset[Scope],
    *,
    user_id: str | None = None,
    rate_limit_per_minute: int | None = UNLIMITED_PER_MINUTE,
) -> IssuedKey:
    async with sessions() as session, session.begin():
        return await create_api_key(
            session,
            name=f"test {'+'.join(sorted(scopes))}",
            scopes=scopes,
            created_by="test:security",
            user_id=user_id,
            rate_limit_per_minute=rate_limit_per_minute,
        )


async def audit_head_seq(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.execute(text("SELECT coalesce(max(seq), 0) FROM audit_log"))).scalar_one())


async def audit_rows_after(
    sessions: async_sessionmaker[AsyncSession], seq: int, event: str | None = None
) -> list[dict[str, Any]]:
    query = "SELECT seq, actor, event, subject, details FROM audit_log WHERE seq > :seq"
    if event is not None:
        query += " AND event = :event"
    async with sessions() as session:
        rows = await session.execute(text(query + " ORDER BY seq"), {"seq": seq, "event": event})
        return [dict(row._mapping) for row in rows]


async def tables_containing(sessions: async_sessionmaker[AsyncSession], needle: str) -> dict[str, int]:
    """Every table (of the session database) with rows whose text contains ``needle``, and how many."""
    async with sessions() as session:
        tables = (
            await session.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
        ).scalars()
        found: dict[str, int] = {}
        for table in list(tables):
            count = (
                await session.execute(
                    text(f'SELECT count(*) FROM "{table}" t WHERE CAST(to_jsonb(t) AS text) LIKE :pattern'),  # noqa: S608
                    {"pattern": f"%{needle}%"},
                )
            ).scalar_one()
            if count:
                found[table] = int(count)
        return found


def billing_cli(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``billing …`` against the session's database and secrets (as an operator would)."""
    return subprocess.run(
        [sys.executable, "-m", "apps.cli.main", *args],
        env=settings_env(settings),
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
