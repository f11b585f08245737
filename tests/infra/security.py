"""Test-session security set-up: a full-scope API key for the default HTTP client."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.security.api_keys import ALL_SCOPES, create_api_key

UNLIMITED_PER_MINUTE = 1_000_000


async def create_full_scope_key(
    sessions: async_sessionmaker[AsyncSession], name: str = "test session"
) -> str:
    """A key with every scope and no practical rate limit; returns the key itself."""
    async with sessions() as session, session.begin():
        issued = await create_api_key(
            session,
            name=name,
            scopes=ALL_SCOPES,
            created_by="test:conftest",
            rate_limit_per_minute=UNLIMITED_PER_MINUTE,
        )
    return issued.key.reveal()
