"""GDPR: export shows what we hold on a user; after erasure nothing personal is left anywhere in the
database, the accounting rows stay under a pseudonym, and the audit chain still verifies."""

import httpx
import pytest
from sqlalchemy import text

from shared.domain.packs import MicroSaasPack
from tests.conftest import Stack, revenuecat_product_of
from tests.infra.revenuecat import RevenueCatSandbox
from tests.infra.security import billing_cli, tables_containing


@pytest.fixture
async def customer(
    stack: Stack,
    http: httpx.AsyncClient,
    user_id: str,
    subscription_pack: MicroSaasPack,
) -> str:
    """A user with a checkout session and an active entitlement (its CloudEvent published)."""
    checkout = await http.post(
        f"{stack.gateway_url}/v1/checkout",
        json={"userId": user_id, "packSlug": subscription_pack.slug, "provider": "revenuecat"},
    )
    assert checkout.status_code == 201, checkout.text
    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    await rc.simulate(
        "purchase", app_user_id=f"rc_{user_id}", product_id=revenuecat_product_of(subscription_pack)
    )
    await stack.published.wait_for(stack.topics.entitlements, lambda r: r.json()["subject"] == user_id)
    return user_id


async def test_export_holds_the_users_entitlements_checkouts_and_audit_trail(
    stack: Stack, http: httpx.AsyncClient, customer: str
) -> None:
    exported = (await http.get(f"{stack.gateway_url}/v1/users/{customer}/export")).json()
    assert {"user_entitlements", "checkout_sessions", "outbox"} <= set(exported["tables"])
    assert {"entitlement.changed", "checkout.created"} <= {row["event"] for row in exported["audit_log"]}


async def test_erasure_then_export_shows_nothing_personal(
    stack: Stack, http: httpx.AsyncClient, customer: str
) -> None:
    erased = await http.delete(f"{stack.gateway_url}/v1/users/{customer}")
    assert erased.status_code == 200
    exported = (await http.get(f"{stack.gateway_url}/v1/users/{customer}/export")).json()
    assert (exported["tables"], exported["audit_log"]) == ({}, [])


async def test_erasure_leaves_the_user_id_in_no_table(
    stack: Stack, http: httpx.AsyncClient, customer: str
) -> None:
    assert await tables_containing(stack.sessions, customer) != {}  # the search does find it
    await http.delete(f"{stack.gateway_url}/v1/users/{customer}")
    assert await tables_containing(stack.sessions, customer) == {}


async def test_erasure_keeps_the_entitlement_under_a_pseudonym_for_accounting(
    stack: Stack, http: httpx.AsyncClient, customer: str, subscription_pack: MicroSaasPack
) -> None:
    await http.delete(f"{stack.gateway_url}/v1/users/{customer}")
    async with stack.sessions() as session:
        kept = await session.execute(
            text(
                "SELECT e.user_id, e.status FROM user_entitlements e JOIN billing_catalog c "
                "ON c.id = e.catalog_id WHERE c.slug = :slug"
            ),
            {"slug": subscription_pack.slug},
        )
        rows = kept.all()
    assert len(rows) == 1 and rows[0].user_id.startswith("erased:") and rows[0].status == "active"


async def test_erased_user_reads_no_entitlements(
    stack: Stack, http: httpx.AsyncClient, customer: str
) -> None:
    await http.delete(f"{stack.gateway_url}/v1/users/{customer}")
    read = await http.get(f"{stack.gateway_url}/v1/users/{customer}/entitlements")
    assert (read.json()["entitlements"], read.json()["features"]) == ([], [])


async def test_audit_chain_verifies_after_an_erasure(
    stack: Stack, http: httpx.AsyncClient, customer: str
) -> None:
    await http.delete(f"{stack.gateway_url}/v1/users/{customer}")
    verified = billing_cli(stack.settings, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
