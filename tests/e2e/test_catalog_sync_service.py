"""The catalog-sync service of the stack: a catalog change reaches it and is reconciled once,
without an error loop, and a change that does not parse is dead-lettered instead of redelivered."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from apps.stack.processes import REPO_ROOT
from shared.db.catalog_models import CatalogSyncReport
from shared.messaging.topics import Topics
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, unique_suffix

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


def _catalog(suffix: str) -> str:
    return f"""
catalog: service-{suffix}
packs:
  - slug: fit-{suffix}
    display_name: Fit Check
    features: [fit.check]
    price: 299
    providers:
      revenuecat: {{product_id: rc.fit.{suffix}, price: 299, currency: USD}}
"""


def _service_log(stack: Stack) -> str:
    run = stack.settings.namespace.strip(".").removeprefix("test-")
    return (REPO_ROOT / ".local" / "test-logs" / run / "catalog-sync.log").read_text(errors="replace")


async def _change_report_pushing(stack: Stack, slug: str, since: datetime, timeout_s: float = 60) -> None:
    """Wait for a change-triggered RevenueCat report that started after ``since`` and names ``slug``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        async with stack.sessions() as session:
            reports = (
                await session.execute(
                    select(CatalogSyncReport).where(
                        CatalogSyncReport.trigger == "change",
                        CatalogSyncReport.provider == "revenuecat",
                        CatalogSyncReport.started_at >= since,
                    )
                )
            ).scalars()
            if any(slug in str(r.pushed) or slug in str(r.differences) for r in reports):
                return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no change-triggered sync report for {slug} within {timeout_s}s")
        await asyncio.sleep(0.2)


async def test_catalog_apply_is_reconciled_by_the_service_without_an_error_loop(stack: Stack) -> None:
    suffix = unique_suffix()
    since = datetime.now(UTC)
    await apply_catalog(stack, _catalog(suffix))
    await stack.published.wait_for(stack.topics.catalog_changes, lambda r: r.key == f"fit-{suffix}".encode())
    await _change_report_pushing(stack, f"fit-{suffix}", since)
    log = _service_log(stack)
    assert "catalog_changes_received" in log
    assert "ValidationError" not in log


async def test_catalog_change_that_does_not_parse_is_dead_lettered_and_the_next_one_is_reconciled(
    stack: Stack,
) -> None:
    marker = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            stack.topics.catalog_changes,
            value=b'{"specversion": "1.0", "type": "catalog.pack.created"}',
            key=marker,
            headers=[("content-type", b"application/cloudevents+json")],
        )
    finally:
        await producer.stop()
    letter = await stack.published.wait_for(
        Topics.dead_letters_of(stack.topics.catalog_changes), lambda r: r.key == marker
    )
    assert b"ValidationError" in letter.headers["x-error"]

    suffix = unique_suffix()
    since = datetime.now(UTC)
    await apply_catalog(stack, _catalog(suffix))
    await _change_report_pushing(stack, f"fit-{suffix}", since)
    await stack.published.caught_up()
    dead = stack.published.on(Topics.dead_letters_of(stack.topics.catalog_changes))
    assert [r.key for r in dead] == [marker]  # the poison once, no real change
