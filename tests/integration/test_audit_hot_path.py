"""No lock on the audit write paths: a worker batch and gateway rows commit side by side without any
advisory lock, and a gateway audit writer that cannot write keeps its rows in a bounded buffer."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from shared.db.audit_log import append_audit
from shared.db.entitlements import apply_entitlement_updates
from shared.domain.audit import AuditEntry
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from shared.messaging.outbox_relay import RELAY_LOCK_KEY
from shared.security.audit_batches import AuditBatchWriter
from shared.security.audit_chain import AUDIT_SEALER_LOCK
from shared.security.retention import RETENTION_LOCK
from tests.conftest import Stack, revenuecat_product_of
from tests.infra.revenuecat import revenuecat_event

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ADVISORY_LOCKS = text(
    "SELECT pid, classid::bigint, objid::bigint, granted FROM pg_locks "
    "WHERE locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
REFUSE_EVENT = "test.refused"


# The one-at-a-time background jobs' locks (each held by one connection, never asked for by a request).
SINGLETON_JOBS = {AUDIT_SEALER_LOCK, RELAY_LOCK_KEY, RETENTION_LOCK}


def _key(classid: int, objid: int) -> int:
    return (classid << 32) | objid


async def test_worker_batch_and_gateway_rows_commit_side_by_side_without_an_advisory_lock(
    stack: Stack, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    now = datetime.now(UTC)
    update = EntitlementUpdate(
        update_id=str(uuid.uuid4()),
        provider=Provider.REVENUECAT,
        provider_event_type="INITIAL_PURCHASE",
        user_id=user_id,
        provider_product_id=revenuecat_product_of(subscription_pack),
        purchase_reference="ref-1",
        status=EntitlementStatus.ACTIVE,
        occurred_at=now,
        expires_at=now + timedelta(days=7),
    )
    async with stack.sessions() as worker, worker.begin():
        await apply_entitlement_updates(worker, [update], stack.topics.entitlements)  # audited, open
        worker_pid = (await worker.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # Under the old chain lock this commit waited for the worker's transaction: a deadlock here.
        async with asyncio.timeout(30), stack.sessions() as gateway, gateway.begin():
            await append_audit(
                gateway, AuditEntry("provider:revenuecat", "webhook.verified", "webhook:revenuecat")
            )
        async with stack.sessions() as observer:
            held = [row for row in (await observer.execute(ADVISORY_LOCKS)).all() if row.pid == worker_pid]
    assert held == []


async def test_webhook_burst_takes_no_advisory_lock_but_the_background_jobs(stack: Stack) -> None:
    auth = {
        "Authorization": stack.settings.revenuecat.webhook_authorization.get_secret_value(),
        "Content-Type": "application/json",
    }
    bodies = [
        orjson.dumps(revenuecat_event("TEST", app_user_id=f"burst-{uuid.uuid4().hex[:8]}", product_id="x"))
        for _ in range(150)
    ]
    seen: list[tuple[int, int, int, bool]] = []
    samples: list[int] = []  # one entry per pg_locks read, whether or not any lock was held then
    done = asyncio.Event()

    async def sample_locks() -> None:
        async with stack.sessions() as observer:
            while not done.is_set():
                seen.extend(tuple(row) for row in (await observer.execute(ADVISORY_LOCKS)).all())
                samples.append(1)
                await asyncio.sleep(0)

    sampler = asyncio.create_task(sample_locks())
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=auth, timeout=30) as client:
        answers = await asyncio.gather(*(client.post("/v1/webhooks/revenuecat", content=b) for b in bodies))
    done.set()
    await sampler
    assert {a.status_code for a in answers} == {200}
    assert samples, "pg_locks was never sampled during the burst"
    assert [lock for lock in seen if _key(lock[1], lock[2]) not in SINGLETON_JOBS] == []
    assert [lock for lock in seen if not lock[3]] == []  # nobody ever waited for one


@pytest.fixture
async def refused_audit_rows(stack: Stack) -> AsyncIterator[None]:
    """Audit inserts of ``test.refused`` rows fail as if INSERT were revoked (the services run as a
    superuser, whom REVOKE does not bind); every other row of the session is written as usual."""
    async with stack.sessions() as session, session.begin():
        await session.execute(
            text(
                "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE insufficient_privilege USING MESSAGE = 'permission denied for table audit_log'; END $$"
            )
        )
        await session.execute(
            text(
                "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                f"WHEN (NEW.event = '{REFUSE_EVENT}') EXECUTE FUNCTION test_refuse_audit()"
            )
        )
    try:
        yield
    finally:
        await allow_audit_rows(stack)


async def allow_audit_rows(stack: Stack) -> None:
    async with stack.sessions() as session, session.begin():
        await session.execute(text("DROP TRIGGER IF EXISTS test_refuse_audit ON audit_log"))
        await session.execute(text("DROP FUNCTION IF EXISTS test_refuse_audit()"))


async def _rows_with_marker(stack: Stack, marker: str) -> int:
    async with stack.sessions() as session:
        query = text("SELECT count(*) FROM audit_log WHERE subject = :s")
        return int((await session.execute(query, {"s": marker})).scalar_one())


async def test_rows_that_cannot_be_written_are_buffered_dropped_past_the_bound_and_written_later(
    stack: Stack, refused_audit_rows: None
) -> None:
    writer = AuditBatchWriter(stack.sessions, max_buffered=2, first_attempt_wait_s=5)
    marker = f"test:{uuid.uuid4().hex}"
    dropped_before = REGISTRY.get_sample_value("billing_audit_rows_dropped_total") or 0.0
    try:
        for _ in range(3):  # each returns once its first attempt failed; the third does not fit
            await writer.append(AuditEntry("test:audit", REFUSE_EVENT, marker))
        assert writer.buffered == 2
        assert REGISTRY.get_sample_value("billing_audit_rows_dropped_total") == dropped_before + 1
        await allow_audit_rows(stack)
        deadline = asyncio.get_running_loop().time() + 30
        while await _rows_with_marker(stack, marker) < 2:
            assert asyncio.get_running_loop().time() < deadline, "the buffered rows were never written"
            await asyncio.sleep(0.05)
    finally:
        await writer.close()
    assert await _rows_with_marker(stack, marker) == 2
