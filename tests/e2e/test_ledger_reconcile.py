"""``billing reconcile`` against the running stack and the RevenueCat sandbox: drift a dropped
webhook or a hand-edited row made is reported, ``--fix`` repairs it through the pipeline, and a
second ``--fix`` finds nothing and publishes nothing."""

import asyncio
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

from apps.stack.processes import REPO_ROOT, settings_env
from services.catalog_sync.ledger_drift import check_ledger_once
from shared.bootstrap import bootstrap
from shared.db.models import UserEntitlement
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider
from shared.ledger_reconciliation import plan_reconciliation, reconcile_ledger
from shared.observability.metrics import LEDGER_DRIFT
from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    checkout,
    entitlement_event,
    lightning_pack,
)
from tests.infra.revenuecat import RevenueCatSandbox, make_pack, wait_until_applied
from tests.infra.topic_collector import Published
from tests.infra.waiting import eventually

# a port nothing listens on: the sandbox's webhook never reaches the gateway
NOWHERE = "http://127.0.0.1:9/v1/webhooks/revenuecat"


@dataclass(frozen=True)
class Run:
    code: int
    output: str


async def billing_reconcile(stack: Stack, user_id: str, *options: str) -> Run:
    env = settings_env(stack.settings) | {"COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "apps.cli.main", "reconcile", "--user", user_id, *options,
        cwd=REPO_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    return Run(process.returncode or 0, output.decode())


async def ledger_row(stack: Stack, user_id: str) -> UserEntitlement | None:
    async with stack.sessions() as session:
        rows = await session.execute(select(UserEntitlement).where(UserEntitlement.user_id == user_id))
        return rows.scalars().one_or_none()


def user_events(stack: Stack, topic: str, user_id: str) -> list[Published]:
    return stack.published.on(topic, lambda r: r.key == user_id.encode())


async def dropped_purchase(stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str) -> str:
    """A customer starts a checkout with us and pays at RevenueCat, whose webhook never reaches us."""
    pack, product = await make_pack(stack.sessions)
    checkout = {"userId": user_id, "packSlug": pack.slug, "provider": "revenuecat"}
    started = await http.post(f"{stack.gateway_url}/v1/checkout", json=checkout)
    assert started.status_code == 201, started.text
    await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product, webhook_url=NOWHERE)
    return product


async def test_dropped_webhook_is_reported_missing_and_fixed_with_one_announcement(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str
) -> None:
    product = await dropped_purchase(stack, http, rc, user_id)

    report = await billing_reconcile(stack, user_id)
    assert report.code == 1, report.output
    assert "missing" in report.output and product in report.output
    assert await ledger_row(stack, user_id) is None  # a report changes nothing

    fixed = await billing_reconcile(stack, user_id, "--fix")
    assert fixed.code == 0, fixed.output
    assert "published 1 corrective update" in fixed.output

    async def active() -> UserEntitlement | None:
        row = await ledger_row(stack, user_id)
        return row if row is not None and row.status == "active" else None

    row = await eventually(active, what="the corrected entitlement")
    customer = await rc.customer_info(f"rc_{user_id}")
    expires = datetime.fromisoformat(customer["subscriber"]["subscriptions"][product]["expires_date"])
    assert row.expires_at is not None and abs(row.expires_at - expires) < timedelta(seconds=1)
    await stack.published.caught_up()
    announced = [e.json()["type"] for e in user_events(stack, stack.topics.entitlements, user_id)]
    assert announced == ["entitlement.activated"]


async def test_hand_edited_expiry_is_reported_wrong_expiry_and_fixed(
    stack: Stack, rc: RevenueCatSandbox, user_id: str
) -> None:
    _, product = await make_pack(stack.sessions)
    event = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, event["id"], user_id)
    applied = await ledger_row(stack, user_id)
    assert applied is not None and applied.expires_at is not None
    async with stack.sessions() as session, session.begin():
        await session.execute(
            update(UserEntitlement)
            .where(UserEntitlement.id == applied.id)
            .values(expires_at=applied.expires_at + timedelta(days=30))
        )

    report = await billing_reconcile(stack, user_id)
    assert report.code == 1, report.output
    assert "wrong_expiry" in report.output

    fixed = await billing_reconcile(stack, user_id, "--fix")
    assert fixed.code == 0, fixed.output

    async def restored() -> UserEntitlement | None:
        row = await ledger_row(stack, user_id)
        return row if row is not None and row.expires_at == applied.expires_at else None

    row = await eventually(restored, what="the original expiry")
    assert row.status == "active"


async def test_a_second_fix_finds_no_drift_and_publishes_nothing(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str
) -> None:
    await dropped_purchase(stack, http, rc, user_id)
    assert (await billing_reconcile(stack, user_id, "--fix")).code == 0
    await eventually(lambda: ledger_row(stack, user_id), what="the corrected entitlement")
    await stack.published.caught_up()
    updates_before = len(user_events(stack, stack.topics.entitlement_updates, user_id))
    announced_before = len(user_events(stack, stack.topics.entitlements, user_id))

    again = await billing_reconcile(stack, user_id, "--fix")

    assert again.code == 0, again.output
    assert "revenuecat: no drift" in again.output
    assert "published 0 corrective update" in again.output
    await stack.published.caught_up()
    assert len(user_events(stack, stack.topics.entitlement_updates, user_id)) == updates_before
    assert len(user_events(stack, stack.topics.entitlements, user_id)) == announced_before


async def test_scheduled_check_exports_the_drift_gauge_and_fixes_nothing(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str
) -> None:
    await dropped_purchase(stack, http, rc, user_id)
    runtime = bootstrap(stack.settings, pool_size=1)
    try:
        await runtime.start()
        await check_ledger_once(runtime)
    finally:
        await runtime.close()

    assert LEDGER_DRIFT.labels(provider="revenuecat", kind="missing")._value.get() >= 1
    assert await ledger_row(stack, user_id) is None  # reconcile_auto_fix is off


async def test_hand_edited_lightning_expiry_is_restored_from_the_btcpay_invoice(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(
        stack.sessions, price=1_500_000, currency="BTC", kind=BillingKind.SUBSCRIPTION, period="P1M"
    )
    session = await checkout(http, stack.gateway_url, user_id, pack)
    await btcpay.pay(await btcpay.invoice_id_for(session["id"]))
    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated", pack.slug)
    )
    paid = await ledger_row(stack, user_id)
    assert paid is not None and paid.expires_at is not None
    async with stack.sessions() as db, db.begin():
        await db.execute(
            update(UserEntitlement)
            .where(UserEntitlement.id == paid.id)
            .values(expires_at=paid.expires_at - timedelta(days=20))
        )

    report = await billing_reconcile(stack, user_id)
    assert report.code == 1, report.output
    assert "lightning" in report.output and "wrong_expiry" in report.output
    assert (await billing_reconcile(stack, user_id, "--fix")).code == 0

    async def restored() -> UserEntitlement | None:
        row = await ledger_row(stack, user_id)
        return row if row is not None and row.expires_at == paid.expires_at else None

    await eventually(restored, what="the expiry the invoice granted")
    assert "lightning: no drift" in (await billing_reconcile(stack, user_id)).output


async def test_an_unreadable_provider_is_reported_unread_never_as_drift(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str
) -> None:
    await dropped_purchase(stack, http, rc, user_id)
    await rc.fault(scope="v1", mode="error", status=503, app_user_id=f"rc_{user_id}")
    try:
        outage = await billing_reconcile(stack, user_id, "--fix")
    finally:
        await rc.fault(scope="v1", mode="off", app_user_id=f"rc_{user_id}")

    assert outage.code == 2, outage.output
    assert f"unread revenuecat {user_id}" in outage.output
    assert "published 0 corrective update" in outage.output


async def test_full_scan_also_checks_a_customer_only_revenuecat_knows(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str
) -> None:
    # Bought in the app: no checkout with us, and the webhook never arrived. Our side has no trace
    # of the user; RevenueCat's customer list (API v2) does.
    _, product = await make_pack(stack.sessions)
    await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product, webhook_url=NOWHERE)
    runtime = bootstrap(stack.settings, pool_size=1)
    try:
        await runtime.start()
        plan = await plan_reconciliation(runtime)
        report = await reconcile_ledger(runtime, {Provider.REVENUECAT: [user_id]})
    finally:
        await runtime.close()

    assert user_id in plan[Provider.REVENUECAT]
    assert [(d.kind.value, d.correction.provider_product_id) for d in report.drifts] == [("missing", product)]
