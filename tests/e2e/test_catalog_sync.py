"""catalog_sync against the provider sandboxes: creates what is missing, repairs drift, survives 5xx."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.catalog_sync.providers import build_provider_catalogs
from services.catalog_sync.reconcile import SyncOutcome, reconcile
from shared.bootstrap import bootstrap
from shared.db.catalog_models import CatalogSyncReport
from shared.db.models import BillingCatalogProvider
from shared.domain.provider import Provider
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, run_billing_cli, unique_suffix, wait_for_change_sync
from tests.infra.provider_catalogs import BtcpaySandboxCatalog, RevenueCatSandboxCatalog
from tests.infra.waiting import eventually


def _catalog(suffix: str) -> str:
    return f"""
catalog: sync-{suffix}
packs:
  - slug: try-on-{suffix}
    display_name: Virtual Try-On
    description: See it on you.
    features: [try_on.3d]
    price: 499
    billing_kind: subscription
    billing_period: P1M
    visuals: {{color: "#7C3AED"}}
    providers:
      revenuecat: {{product_id: rc.tryon.{suffix}, price: 499, currency: USD}}
      lightning: {{product_id: ln.tryon.{suffix}, price: 499, currency: USD}}
  - slug: swatch-{suffix}
    display_name: Colour Match
    features: [color.match]
    price: 199
    providers:
      lightning: {{product_id: ln.swatch.{suffix}, price: 19900000, currency: BTC}}
"""


@pytest.fixture
async def suffix(stack: Stack) -> str:
    """A catalog applied and already reconciled once by the stack's catalog-sync (on its change
    event), so the test's own runs meet no concurrent one."""
    suffix = unique_suffix()
    since = datetime.now(UTC)
    await apply_catalog(stack, _catalog(suffix))
    await wait_for_change_sync(stack, since)
    return suffix


@pytest.fixture
async def sync(stack: Stack) -> AsyncIterator[Any]:
    """Run one reconciliation in-process, as the service does on each tick."""
    runtime = bootstrap(stack.settings, pool_size=2)

    async def run() -> dict[Provider, SyncOutcome]:
        catalogs = build_provider_catalogs(runtime.provider_resources)
        outcomes = await reconcile(stack.sessions, catalogs, trigger="test")
        return {o.provider: o for o in outcomes}

    yield run
    await runtime.close()


def _pushed(outcome: SyncOutcome, slug: str) -> list[str]:
    return [action for item in outcome.pushed if item["slug"] == slug for action in item["actions"]]


def _failed(outcome: SyncOutcome, slug: str) -> list[dict[str, Any]]:
    return [item for item in outcome.failed if item["slug"] == slug]


async def test_sync_creates_a_pack_at_revenuecat_as_product_entitlement_and_offering(
    stack: Stack, http: httpx.AsyncClient, suffix: str, sync: Any
) -> None:
    outcomes = await sync()
    differences = outcomes[Provider.REVENUECAT].differences
    assert not [d for d in differences if d["slug"] == f"try-on-{suffix}"]  # created on the change event
    revenuecat = RevenueCatSandboxCatalog(stack, http)
    product = await revenuecat.product(f"rc.tryon.{suffix}")
    assert product is not None
    assert (product["display_name"], product["type"], product["subscription"]) == (
        "Virtual Try-On",
        "subscription",
        {"duration": "P1M"},
    )
    entitlement = await revenuecat.entitlement(f"try-on-{suffix}")
    assert entitlement is not None
    assert [p["id"] for p in entitlement["products"]["items"]] == [product["id"]]
    offering = await revenuecat.offering(f"try-on-{suffix}")
    assert offering is not None
    assert offering["metadata"]["price"] == {"amount": 499, "currency": "USD"}


async def test_sync_records_the_ids_the_adapters_read(stack: Stack, suffix: str, sync: Any) -> None:
    await sync()
    async with stack.sessions() as session:
        listing = (
            await session.execute(
                select(BillingCatalogProvider).where(
                    BillingCatalogProvider.provider_product_id == f"rc.tryon.{suffix}"
                )
            )
        ).scalar_one()
    assert listing.provider_ids["entitlement_lookup_key"] == f"try-on-{suffix}"
    assert listing.provider_ids["rc_product_id"].startswith("prod")


async def test_sync_prices_lightning_plans_at_btcpay(
    stack: Stack, http: httpx.AsyncClient, suffix: str, sync: Any
) -> None:
    await sync()
    btcpay = BtcpaySandboxCatalog(stack, http)
    fiat = await btcpay.plan(f"ln.tryon.{suffix}")
    bitcoin = await btcpay.plan(f"ln.swatch.{suffix}")
    assert fiat is not None and bitcoin is not None
    assert (fiat[1]["price"], fiat[1]["currency"], fiat[1]["recurringType"]) == ("4.99", "USD", "Monthly")
    assert (bitcoin[1]["price"], bitcoin[1]["currency"], bitcoin[1]["recurringType"]) == (
        "0.000199",
        "BTC",
        "Lifetime",
    )


async def test_fiat_priced_lightning_pack_gets_a_sats_price_from_the_oracle(
    stack: Stack, suffix: str, sync: Any
) -> None:
    await sync()
    async with stack.sessions() as session:
        listing = (
            await session.execute(
                select(BillingCatalogProvider).where(
                    BillingCatalogProvider.provider_product_id == f"ln.tryon.{suffix}"
                )
            )
        ).scalar_one()
    assert listing.provider_ids["price_msat"] > 0
    assert listing.provider_ids["btc_price"]


async def test_second_sync_finds_our_packs_in_sync(stack: Stack, suffix: str, sync: Any) -> None:
    await sync()
    outcomes = await sync()
    for outcome in outcomes.values():
        assert not [d for d in outcome.differences if d["slug"] in (f"try-on-{suffix}", f"swatch-{suffix}")]


async def test_plan_edited_at_btcpay_drifts_back_after_the_next_sync(
    stack: Stack, http: httpx.AsyncClient, suffix: str, sync: Any
) -> None:
    await sync()
    btcpay = BtcpaySandboxCatalog(stack, http)
    found = await btcpay.plan(f"ln.tryon.{suffix}")
    assert found is not None
    await btcpay.edit_plan(*found, price="0.99", name="Cheap Try-On")

    outcomes = await sync()
    assert any("plan" in action for action in _pushed(outcomes[Provider.LIGHTNING], f"try-on-{suffix}"))
    repaired = await btcpay.plan(f"ln.tryon.{suffix}")
    assert repaired is not None
    assert (repaired[1]["price"], repaired[1]["name"]) == ("4.99", "Virtual Try-On")


async def test_product_detached_at_revenuecat_is_attached_again_after_the_next_sync(
    stack: Stack, http: httpx.AsyncClient, suffix: str, sync: Any
) -> None:
    await sync()
    revenuecat = RevenueCatSandboxCatalog(stack, http)
    entitlement = await revenuecat.entitlement(f"try-on-{suffix}")
    product = await revenuecat.product(f"rc.tryon.{suffix}")
    assert entitlement is not None and product is not None
    await revenuecat.detach(entitlement["id"], product["id"])

    outcomes = await sync()
    assert "attached product to entitlement" in _pushed(outcomes[Provider.REVENUECAT], f"try-on-{suffix}")
    again = await revenuecat.entitlement(f"try-on-{suffix}")
    assert again is not None
    assert [p["id"] for p in again["products"]["items"]] == [product["id"]]


async def test_one_5xx_during_sync_is_retried(
    stack: Stack, http: httpx.AsyncClient, suffix: str, sync: Any
) -> None:
    revenuecat = RevenueCatSandboxCatalog(stack, http)
    await revenuecat.fail_v2_calls(1)
    outcome = (await sync())[Provider.REVENUECAT]
    assert outcome.status != "failed"
    assert not _failed(outcome, f"try-on-{suffix}")
    assert await revenuecat.product(f"rc.tryon.{suffix}") is not None


async def test_provider_down_during_sync_is_reported_then_repaired_by_the_next_run(
    stack: Stack, http: httpx.AsyncClient, suffix: str, sync: Any
) -> None:
    revenuecat = RevenueCatSandboxCatalog(stack, http)
    entitlement = await revenuecat.entitlement(f"try-on-{suffix}")
    product = await revenuecat.product(f"rc.tryon.{suffix}")
    assert entitlement is not None and product is not None
    await revenuecat.detach(entitlement["id"], product["id"])  # drift the next run must repair
    await revenuecat.fail_v2_calls(1000)
    try:
        down = (await sync())[Provider.REVENUECAT]
    finally:
        await revenuecat.stop_failing()
    assert down.status == "failed"
    assert "503" in (down.error or "")
    async with stack.sessions() as session:
        report = (
            await session.execute(
                select(CatalogSyncReport)
                .where(CatalogSyncReport.provider == "revenuecat")
                .order_by(CatalogSyncReport.finished_at.desc())
                .limit(1)
            )
        ).scalar_one()
    assert (report.status, report.trigger) == ("failed", "test")

    back = (await sync())[Provider.REVENUECAT]
    assert "attached product to entitlement" in _pushed(back, f"try-on-{suffix}")
    again = await revenuecat.entitlement(f"try-on-{suffix}")
    assert again is not None
    assert [p["id"] for p in again["products"]["items"]] == [product["id"]]


async def test_catalog_sync_service_pushes_a_pack_after_its_change_event(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))  # the stack's catalog-sync reacts to its change event
    revenuecat = RevenueCatSandboxCatalog(stack, http)
    await eventually(lambda: revenuecat.product(f"rc.tryon.{suffix}"), timeout_s=60)


async def test_billing_catalog_diff_only_reports_and_sync_repairs_through_the_connectors(
    stack: Stack, http: httpx.AsyncClient, suffix: str
) -> None:
    revenuecat = RevenueCatSandboxCatalog(stack, http)
    entitlement = await revenuecat.entitlement(f"try-on-{suffix}")
    product = await revenuecat.product(f"rc.tryon.{suffix}")
    assert entitlement is not None and product is not None
    await revenuecat.detach(entitlement["id"], product["id"])

    diff = await asyncio.to_thread(run_billing_cli, stack, "catalog", "diff")
    assert diff.returncode == 0, diff.stderr
    assert f"try-on-{suffix} [rc.tryon.{suffix}]" in diff.stdout  # RevenueCat's listing of it differs
    detached = await revenuecat.entitlement(f"try-on-{suffix}")
    assert detached is not None and detached["products"]["items"] == []  # a dry run pushed nothing

    synced = await asyncio.to_thread(run_billing_cli, stack, "catalog", "sync")
    assert [line for line in synced.stdout.splitlines() if line.startswith("revenuecat: ")], synced.stdout
    repaired = await revenuecat.entitlement(f"try-on-{suffix}")
    assert repaired is not None
    assert [p["id"] for p in repaired["products"]["items"]] == [product["id"]]
