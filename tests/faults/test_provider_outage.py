"""Scenario 7: the providers' APIs fail for 30 s under load — RevenueCat's subscribers API answers
5xx, then hangs past our timeout; BTCPay's invoice reads fail for part of it.

Confirmations are retried, never dead-lettered, and a RevenueCat outage does not hold Lightning
settlements back: Lightning purchases paid while only RevenueCat is down are active before it returns.
"""

import asyncio
import statistics
import time

import pytest
from sqlalchemy import select

from shared.db.models import UserEntitlement
from tests.infra.fault_load import LoadDriver
from tests.infra.fault_scenarios import record, run_under_fault
from tests.infra.fault_stack import FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]
RC_ERRORS_S, RC_TIMEOUTS_S = 15.0, 15.0  # 30 s of RevenueCat outage in all
BTCPAY_DOWN_FROM_S, BTCPAY_DOWN_S = 20.0, 8.0  # offsets from the start of the RevenueCat outage


async def lightning_applied_at(stack: FaultStack, prefix: str) -> dict[str, float]:
    """Lightning user → when the worker wrote the active entitlement (epoch seconds)."""
    async with stack.sessions() as session:
        rows = await session.execute(
            select(UserEntitlement.user_id, UserEntitlement.updated_at).where(
                UserEntitlement.user_id.like(f"{prefix}ln-%"), UserEntitlement.status == "active"
            )
        )
        return {user: updated.timestamp() for user, updated in rows.all()}


@pytest.mark.timeout(600)
async def test_provider_outage_is_retried_and_revenuecat_does_not_delay_lightning(
    stack: FaultStack,
) -> None:
    driver = LoadDriver(stack, f"provider-outage-{int(time.time()) % 100000}")
    rc, btcpay = stack.sandbox_urls["revenuecat"], stack.sandbox_urls["btcpay"]
    marks: dict[str, float] = {}

    async def outage() -> None:
        marks["rc_down"] = time.time()
        await stack.http.post(f"{rc}/control/faults", json={"scope": "v1", "mode": "error", "status": 503})
        await asyncio.sleep(RC_ERRORS_S)
        await stack.http.post(f"{rc}/control/faults", json={"scope": "v1", "mode": "off"})
        await stack.http.post(f"{rc}/control/faults", json={"scope": "v1", "mode": "timeout"})
        await asyncio.sleep(BTCPAY_DOWN_FROM_S - RC_ERRORS_S)
        marks["btcpay_down"] = time.time()
        await stack.http.post(f"{btcpay}/control/faults", json={"invoiceReads": "error", "status": 503})
        await asyncio.sleep(BTCPAY_DOWN_S)
        await stack.http.post(f"{btcpay}/control/faults", json={"invoiceReads": "off"})
        await asyncio.sleep(RC_ERRORS_S + RC_TIMEOUTS_S - BTCPAY_DOWN_FROM_S - BTCPAY_DOWN_S)
        await stack.http.post(f"{rc}/control/faults", json={"scope": "v1", "mode": "off"})
        marks["rc_up"] = time.time()

    outcome = await run_under_fault(
        stack, "provider-outage", outage, at_s=3.0, duration_s=36.0, timeout_s=210, driver=driver
    )

    # Lightning paid while RevenueCat alone was down (before BTCPay's reads failed, less a margin
    # for the settlement's own few deliveries) must have been applied before RevenueCat came back.
    paid = {p.user_id: p.paid_at for p in driver.load.lightning if p.paid_at is not None}
    rc_only = [u for u, at in paid.items() if marks["rc_down"] <= at <= marks["btcpay_down"] - 3]
    applied = await lightning_applied_at(stack, driver.load.prefix)
    delays = [applied[u] - paid[u] for u in rc_only if u in applied]
    late = [u for u in rc_only if applied.get(u, float("inf")) > marks["rc_up"]]
    median = f"{statistics.median(delays):.2f}" if delays else "n/a"
    worst = f"{max(delays):.2f}" if delays else "n/a"
    record(
        stack,
        f"  lightning paid: {len(paid)}, while only RevenueCat was down: {len(rc_only)}, "
        f"payment→applied median {median} s, max {worst} s, after RevenueCat returned: {len(late)}",
    )
    assert rc_only, "no Lightning purchase was paid during the RevenueCat-only window"
    assert late == [], "Lightning settlements waited for RevenueCat"
    outcome.settled.figures.assert_clean()
