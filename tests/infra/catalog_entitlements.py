"""Entitlement updates for catalog tests, sent through the real worker and awaited as events."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider
from tests.conftest import Stack
from tests.infra.catalog import publish_update
from tests.infra.topic_collector import Published


def entitlement_update(
    user_id: str,
    product_id: str,
    reference: str,
    status: EntitlementStatus,
    *,
    provider: Provider = Provider.REVENUECAT,
    at: datetime | None = None,
) -> EntitlementUpdate:
    occurred = at or datetime.now(UTC)
    return EntitlementUpdate(
        update_id=f"test-{uuid.uuid4().hex}",
        provider=provider,
        provider_event_type="TEST",
        user_id=user_id,
        provider_product_id=product_id,
        purchase_reference=reference,
        status=status,
        occurred_at=occurred,
        expires_at=occurred + timedelta(days=30),
    )


async def apply_and_wait(stack: Stack, update: EntitlementUpdate, events: int = 1) -> list[Published]:
    """Publish the update and wait until the worker has emitted ``events`` events for it."""
    await publish_update(stack, update)
    return await events_for(stack, update.update_id, events)


async def events_for(stack: Stack, update_id: str, count: int, timeout_s: float = 30) -> list[Published]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = stack.published.on(
            stack.topics.entitlements, lambda r: r.json()["data"].get("provider_event_id") == update_id
        )
        if len(found) >= count:
            return found
        if loop.time() > deadline:
            raise TimeoutError(f"{len(found)} of {count} events for {update_id} within {timeout_s}s")
        await asyncio.sleep(0.05)
