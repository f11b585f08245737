"""Scenario 7: the providers' APIs fail for 30 s under load — RevenueCat's subscribers API answers
5xx, then hangs past our timeout; BTCPay's invoice reads fail for part of it.

Confirmations are retried, never dead-lettered, and a RevenueCat outage does not hold Lightning
settlements back: a Lightning payment our gateway heard of while only RevenueCat was down is active
before RevenueCat returns.

The clock starts when we first heard of the payment, not at the payment: BTCPay's first webhook
about it (``InvoiceReceivedPayment``, ``InvoicePaymentSettled`` or ``InvoiceSettled``) reaching the
gateway, or the gateway's invoice poller seeing it paid, whichever came first. BTCPay sends a store's
webhooks one at a time, so on a machine short of CPU its own queue can hold them back for seconds
before they reach us. That wait is upstream of our pipeline and would be there with RevenueCat up;
the payment-to-entitlement figures are printed beside it.
"""

import asyncio
import statistics
import time

import pytest
from sqlalchemy import select

from shared.connectors.lightning.tables import LightningInvoice
from shared.db.models import UserEntitlement
from shared.messaging.raw_deliveries import RawDeliveryHeader
from tests.infra.fault_load import LoadDriver
from tests.infra.fault_scenarios import record, run_under_fault
from tests.infra.fault_stack import FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]
RC_ERRORS_S, RC_TIMEOUTS_S = 15.0, 15.0  # 30 s of RevenueCat outage in all
BTCPAY_DOWN_FROM_S, BTCPAY_DOWN_S = 20.0, 8.0  # offsets from the start of the RevenueCat outage


PAYMENT_EVENTS = frozenset({"InvoiceReceivedPayment", "InvoicePaymentSettled", "InvoiceSettled"})


async def payments_heard_at(stack: FaultStack, invoice_ids: set[str]) -> dict[str, float]:
    """BTCPay invoice id → when we first heard of its payment (epoch seconds of the raw delivery):
    BTCPay's first webhook about it reaching the gateway, or the gateway's poller seeing it paid."""
    async with stack.sessions() as session:
        rows = await session.execute(
            select(LightningInvoice.payment_hash, LightningInvoice.provider_invoice_id).where(
                LightningInvoice.provider_invoice_id.in_(invoice_ids)
            )
        )
        invoice_of_hash: dict[str, str] = {payment_hash: invoice for payment_hash, invoice in rows.all()}
    heard: dict[str, float] = {}
    for delivery in stack.published.on(stack.topics.webhooks_raw):
        source, body = delivery.headers.get(RawDeliveryHeader.SOURCE), delivery.json()
        if source == b"btcpay" and body.get("type") in PAYMENT_EVENTS:
            invoice_id = body.get("invoiceId")
        elif source == b"poll":
            invoice_id = invoice_of_hash.get(body.get("paymentHash", ""))
        else:
            continue
        if invoice_id in invoice_ids:
            at = int(delivery.headers[RawDeliveryHeader.RECEIVED_AT_MS]) / 1000
            heard[invoice_id] = min(at, heard.get(invoice_id, at))
    return heard


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

    # Lightning payments we heard of while RevenueCat alone was down (before BTCPay's reads failed, less
    # a margin for ingest and the worker) must have been applied before RevenueCat came back.
    await stack.published.caught_up()
    paid = [p for p in driver.load.lightning if p.invoice_id and p.paid_at is not None]
    paid_at = {p.invoice_id: p.paid_at for p in paid if p.invoice_id and p.paid_at is not None}
    user_of = {p.invoice_id: p.user_id for p in paid if p.invoice_id}
    heard = await payments_heard_at(stack, set(paid_at))
    applied = await lightning_applied_at(stack, driver.load.prefix)
    in_window = [i for i, at in heard.items() if marks["rc_down"] <= at <= marks["btcpay_down"] - 3]
    late = [i for i in in_window if applied.get(user_of[i], float("inf")) > marks["rc_up"]]
    from_hearing = [applied[user_of[i]] - heard[i] for i in in_window if user_of[i] in applied]
    from_payment = [applied[user_of[i]] - paid_at[i] for i in in_window if user_of[i] in applied]
    record(
        stack,
        f"  lightning paid: {len(paid)}, heard of while only RevenueCat was down: "
        f"{len(in_window)}, heard→applied {_median_and_max(from_hearing)}, "
        f"paid→applied {_median_and_max(from_payment)}, after RevenueCat returned: {len(late)}",
    )
    assert in_window, "we heard of no Lightning payment during the RevenueCat-only window"
    assert late == [], "Lightning settlements waited for RevenueCat"
    outcome.settled.figures.assert_clean()


def _median_and_max(delays: list[float]) -> str:
    if not delays:
        return "n/a"
    return f"median {statistics.median(delays):.2f} s, max {max(delays):.2f} s"
