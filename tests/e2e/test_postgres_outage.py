"""Postgres unreachable for the consumers: webhooks wait and are applied when it returns, none is
dead-lettered, and nobody has to replay anything.

The shared Postgres is never stopped: this test runs its own ingest and worker (own database, own
topics) connected through a proxy it closes for the outage; its own gateway connects directly.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from apps.stack.processes import REPO_ROOT, free_port, wait_for_http
from shared.db.engine import create_engine, session_factory
from shared.messaging.dead_letters import read_dead_letters
from shared.messaging.topics import Topics, ensure_topics
from tests.conftest import Stack
from tests.infra.catalog import extra_service
from tests.infra.closable_proxy import ClosableProxy
from tests.infra.own_database import database_url, own_database
from tests.infra.revenuecat import RevenueCatSandbox, announced, make_pack, wait_until_applied

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

OUTAGE_S = 10.0
WEBHOOKS_DURING_OUTAGE = 4


@pytest.fixture
async def postgres_proxy() -> AsyncIterator[ClosableProxy]:
    proxy = ClosableProxy("127.0.0.1", 55432)
    await proxy.open()
    yield proxy
    await proxy.close()


def _log_path(stack: Stack, name: str) -> Path:
    return (
        REPO_ROOT
        / ".local"
        / "test-logs"
        / stack.settings.namespace.strip(".").removeprefix("test-")
        / f"{name}.log"
    )


def _count_in_logs(paths: list[Path], needle: str) -> int:
    return sum(path.read_text(errors="replace").count(needle) for path in paths if path.exists())


async def _wait_for_log_lines(paths: list[Path], needle: str, count: int, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while _count_in_logs(paths, needle) < count:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"fewer than {count} {needle!r} lines within {timeout_s}s")
        await asyncio.sleep(0.1)


async def test_webhooks_during_a_postgres_outage_are_applied_after_it_and_none_is_dead_lettered(
    stack: Stack, http: httpx.AsyncClient, run_id: str, postgres_proxy: ClosableProxy
) -> None:
    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    async with own_database(run_id) as database:
        namespace = f"{stack.settings.namespace}pg-outage-{uuid.uuid4().hex[:6]}."
        direct = {"namespace": namespace, "database_url": database_url(database)}
        proxied = {**direct, "database_url": database_url(database, postgres_proxy.port)}
        settings = stack.settings.with_values(**direct)
        await ensure_topics(settings)
        topics = Topics(namespace)
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        _, product = await make_pack(sessions)
        gateway_port = free_port()
        webhook_url = f"http://127.0.0.1:{gateway_port}/v1/webhooks/revenuecat"
        consumer_logs = [_log_path(stack, f"{namespace}ingest"), _log_path(stack, f"{namespace}worker")]
        try:
            with (
                extra_service(stack, "gateway", f"{namespace}gateway", gateway_port=gateway_port, **direct),
                extra_service(stack, "ingest", f"{namespace}ingest", **proxied),
                extra_service(stack, "worker", f"{namespace}worker", **proxied),
            ):
                await wait_for_http(
                    f"http://127.0.0.1:{gateway_port}/healthz", timeout_s=120
                )  # a busy machine
                warm_up = f"user-{uuid.uuid4().hex[:12]}"
                event = await rc.simulate(
                    "purchase", app_user_id=f"rc_{warm_up}", product_id=product, webhook_url=webhook_url
                )
                await wait_until_applied(sessions, event["id"], warm_up, timeout_s=90)

                await postgres_proxy.close()
                outage_started = asyncio.get_running_loop().time()
                users = [f"user-{uuid.uuid4().hex[:12]}" for _ in range(WEBHOOKS_DURING_OUTAGE)]
                events = [
                    await rc.simulate(
                        "purchase", app_user_id=f"rc_{user}", product_id=product, webhook_url=webhook_url
                    )
                    for user in users
                ]
                for event in events:  # the gateway took them: they are in Kafka
                    await rc.wait_delivered(event["id"])
                # The consumers did meet the outage (more retries than the old bound allowed) ...
                retries = stack.settings.max_processing_attempts + 1
                needle = '"failure": "transient"'  # the services log JSON (stderr is no TTY)
                await _wait_for_log_lines(consumer_logs, needle, retries, timeout_s=OUTAGE_S * 3)
                # ... and it lasts long enough to matter (a fault's duration, not a wait for a condition).
                await asyncio.sleep(max(0.0, OUTAGE_S - (asyncio.get_running_loop().time() - outage_started)))
                await postgres_proxy.open()

                for user, event in zip(users, events, strict=True):
                    await wait_until_applied(sessions, event["id"], user, timeout_s=60)
                    assert await announced(sessions, event["id"]) == [("entitlement.activated", user)]
                for topic in (topics.webhooks_raw, topics.entitlement_updates):
                    assert await read_dead_letters(settings.kafka_bootstrap, topic, 100) == []
        finally:
            await engine.dispose()
