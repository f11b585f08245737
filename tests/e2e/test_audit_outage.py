"""The gateway's audit write never turns an accepted webhook into a 5xx: while its audit insert fails,
a valid webhook that Kafka acknowledged still gets its 200, and the row is written once it can be."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy import text

from tests.conftest import Stack
from tests.infra.revenuecat import revenuecat_event
from tests.infra.security import audit_head_seq, audit_rows_after

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def webhook_audit_refused(stack: Stack) -> AsyncIterator[None]:
    """The gateway's webhook audit inserts fail as if INSERT on audit_log were revoked (the services run
    as a superuser, whom REVOKE does not bind); the worker's rows are written as usual."""
    async with stack.sessions() as session, session.begin():
        await session.execute(
            text(
                "CREATE FUNCTION test_refuse_webhook_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE insufficient_privilege USING MESSAGE = 'permission denied for table audit_log'; END $$"
            )
        )
        await session.execute(
            text(
                "CREATE TRIGGER test_refuse_webhook_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                "WHEN (NEW.event LIKE 'webhook.%') EXECUTE FUNCTION test_refuse_webhook_audit()"
            )
        )
    try:
        yield
    finally:
        await allow_webhook_audit(stack)


async def allow_webhook_audit(stack: Stack) -> None:
    async with stack.sessions() as session, session.begin():
        await session.execute(text("DROP TRIGGER IF EXISTS test_refuse_webhook_audit ON audit_log"))
        await session.execute(text("DROP FUNCTION IF EXISTS test_refuse_webhook_audit()"))


async def _verified_rows(stack: Stack, head: int, request_id: str) -> list[int]:
    rows = await audit_rows_after(stack.sessions, head, "webhook.verified")
    return [r["seq"] for r in rows if r["details"]["request_id"] == request_id]


async def test_valid_webhook_gets_200_while_its_audit_insert_fails_and_is_audited_once_it_can_be(
    stack: Stack, webhook_audit_refused: None
) -> None:
    head = await audit_head_seq(stack.sessions)
    event_id = str(uuid.uuid4()).upper()
    body = revenuecat_event(
        "TEST", app_user_id=f"outage-{uuid.uuid4().hex[:8]}", product_id="x", event_id=event_id
    )
    headers = {
        "Authorization": stack.settings.revenuecat.webhook_authorization.get_secret_value(),
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        response = await client.post("/v1/webhooks/revenuecat", content=orjson.dumps(body), headers=headers)
        metrics = (await client.get("/metrics")).text

    assert (response.status_code, response.json()["event_id"]) == (200, event_id)
    await stack.published.wait_for(stack.topics.webhooks_raw, lambda r: event_id.encode() in r.value)
    request_id = response.headers["X-Request-Id"]
    assert await _verified_rows(stack, head, request_id) == []
    failures = [
        line for line in metrics.splitlines() if line.startswith("billing_audit_write_failures_total ")
    ]
    assert failures and float(failures[0].split()[1]) >= 1

    await allow_webhook_audit(stack)
    deadline = asyncio.get_running_loop().time() + 30
    while not await _verified_rows(stack, head, request_id):
        assert asyncio.get_running_loop().time() < deadline, "the buffered audit row was never written"
        await asyncio.sleep(0.05)
    assert len(await _verified_rows(stack, head, request_id)) == 1
