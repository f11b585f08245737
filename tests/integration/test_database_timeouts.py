"""Waits on Postgres are bounded: a statement or a lock wait that would hang fails instead."""

import pytest
from sqlalchemy import text

from shared.db.engine import LOCK_TIMEOUT_MS, STATEMENT_TIMEOUT_MS, create_engine
from shared.messaging.failures import Failure, classify_failure
from tests.conftest import Stack

pytestmark = pytest.mark.postgres


async def test_every_connection_carries_statement_and_lock_timeouts(stack: Stack) -> None:
    engine = create_engine(stack.settings.database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            statement = await conn.scalar(text("SELECT current_setting('statement_timeout')"))
            lock = await conn.scalar(text("SELECT current_setting('lock_timeout')"))
    finally:
        await engine.dispose()
    assert statement == f"{STATEMENT_TIMEOUT_MS // 1000}s"
    assert lock == f"{LOCK_TIMEOUT_MS // 1000}s"


async def test_a_lock_wait_past_the_timeout_fails_as_transient(stack: Stack) -> None:
    engine = create_engine(stack.settings.database_url, pool_size=2)
    try:
        async with engine.connect() as holder, engine.connect() as waiter:
            await holder.execute(text("SELECT pg_advisory_xact_lock(424242)"))
            await waiter.execute(text("SET lock_timeout = '100ms'"))  # the same bound, made short
            with pytest.raises(Exception) as failed:
                await waiter.execute(text("SELECT pg_advisory_xact_lock(424242)"))
            assert classify_failure(failed.value) is Failure.TRANSIENT
    finally:
        await engine.dispose()
