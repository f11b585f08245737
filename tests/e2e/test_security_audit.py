"""The audit log: concurrent appends are all sealed into one chain, it is append-only, an edited row is
detected, and the retention job purges old details without breaking it."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.connectors.registry import raw_payload_columns
from shared.db.audit_log import append_audit
from shared.domain.audit import AuditEntry
from shared.security.audit_chain import verify_audit_chain
from shared.security.retention import run_retention
from tests.conftest import Stack
from tests.infra.security import audit_rows_after, billing_cli


async def append(stack: Stack, n: int) -> int:
    async with stack.sessions() as session, session.begin():
        return await append_audit(
            session, AuditEntry("test:audit", "test.appended", f"test:{n}", {"n": n, "note": "<b>x</b>'"})
        )


async def wait_until_sealed(stack: Stack, seqs: list[int]) -> None:
    """The worker's sealer chains new rows within a fraction of a second; wait for it."""
    deadline = asyncio.get_running_loop().time() + 30
    query = text("SELECT count(*) FROM audit_log WHERE seq = ANY(:s) AND chain_pos IS NOT NULL")
    while True:
        async with stack.sessions() as session:
            if (await session.execute(query, {"s": seqs})).scalar_one() == len(seqs):
                return
        assert asyncio.get_running_loop().time() < deadline, "the worker's sealer never sealed the rows"
        await asyncio.sleep(0.05)


async def test_concurrent_appends_are_sealed_into_one_unbroken_chain(stack: Stack) -> None:
    seqs = list(await asyncio.gather(*(append(stack, n) for n in range(40))))
    await wait_until_sealed(stack, seqs)
    async with stack.sessions() as session:
        report = await verify_audit_chain(session)
        links = await session.execute(
            text(
                "SELECT count(DISTINCT prev_hash), count(DISTINCT chain_pos), count(*) FROM audit_log "
                "WHERE seq = ANY(:s)"
            ),
            {"s": seqs},
        )
    distinct_prev, positions, rows = links.one()
    assert report.intact, report.reason
    assert distinct_prev == positions == rows == 40  # no two rows hang off the same predecessor


async def test_audit_rows_cannot_be_deleted(stack: Stack) -> None:
    seq = await append(stack, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        async with stack.sessions() as session, session.begin():
            await session.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})


async def test_audit_rows_cannot_be_edited_through_the_table(stack: Stack) -> None:
    seq = await append(stack, 2)
    with pytest.raises(DBAPIError, match="only be purged"):
        async with stack.sessions() as session, session.begin():
            await session.execute(
                text("UPDATE audit_log SET details = '{\"n\": 3}'::jsonb WHERE seq = :s"), {"s": seq}
            )


async def test_verify_detects_a_row_edited_behind_the_trigger(stack: Stack) -> None:
    seq = await append(stack, 4)
    await wait_until_sealed(stack, [seq])
    tamper = "UPDATE audit_log SET details = CAST(:d AS jsonb) WHERE seq = :s"
    async with stack.sessions() as session, session.begin():
        original = (
            await session.execute(text("SELECT details::text FROM audit_log WHERE seq = :s"), {"s": seq})
        ).scalar_one()
        # An attacker with owner rights switches the guard off; the chain still gives them away.
        await session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        await session.execute(text(tamper), {"d": '{"n": 999}', "s": seq})
    try:
        verified = billing_cli(stack.settings, "audit", "verify")
        assert verified.returncode == 1
        assert f"BROKEN at seq {seq}: details differ" in verified.stderr
    finally:
        async with stack.sessions() as session, session.begin():
            await session.execute(text(tamper), {"d": original, "s": seq})
            await session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


async def test_retention_purges_old_audit_details_and_the_chain_still_verifies(stack: Stack) -> None:
    seq = await append(stack, 5)
    await wait_until_sealed(stack, [seq])
    async with stack.sessions() as session, session.begin():
        report = await run_retention(
            session,
            raw_payload_columns(),
            90,
            365,
            "test:retention",
            now=datetime.now(UTC) + timedelta(days=366),
        )
        purged = await session.execute(text("SELECT details FROM audit_log WHERE seq = :s"), {"s": seq})
        assert purged.scalar_one() is None
        assert report.purged["audit_log.details"] >= 1
        assert (await verify_audit_chain(session)).intact
        await session.rollback()  # keep the session's audit details for the other tests


async def test_retention_run_reports_what_it_purged(stack: Stack) -> None:
    ran = billing_cli(stack.settings, "retention", "run")
    assert ran.returncode == 0, ran.stderr
    assert "audit_log.details: " in ran.stdout and "purged in total" in ran.stdout


async def test_worker_runs_the_retention_job_on_its_own(stack: Stack) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while not [
        r
        for r in await audit_rows_after(stack.sessions, 0, "retention.run")
        if r["actor"] == "service:entitlement-worker"
    ]:
        assert asyncio.get_running_loop().time() < deadline, "the worker never ran the retention job"
        await asyncio.sleep(0.2)
