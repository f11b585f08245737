"""The seed's contract, checked as a client written from the seed's TypeScript types would use it.

``SEED`` below is the source of truth: the seed's four shapes, field name → JSON type, transcribed
from the seed's TypeScript interfaces as issue 14 §1 lists them (the seed's ``.ts`` text itself is
not kept in the repository; ``ARCHITECTURE.md`` names the same four types in
``shared/connectors/base.py``)::

    type Provider = "revenuecat" | "lightning";
    interface MicroSaasPack {
      id: string; slug: string; displayName: string; description: string; features: string[];
      price: number; currency: string; providerSkus: { revenuecat?: string; lightning?: string };
    }
    interface CheckoutInput {
      userId: string; packId: string; provider: Provider; metadata?: Record<string, string>;
    }
    interface CheckoutSession {
      sessionId: string; provider: Provider; url?: string; lightningInvoice?: string;
    }
    interface EntitlementUpdate {
      userId: string; packId: string; status: "active" | "expired" | "revoked"; provider: Provider;
      reference: string; activationDate: Date; expirationDate?: Date;
    }

An optional field (``?``) may be ``null`` in our JSON; a ``Date`` is an ISO 8601 string. ``price``
is a number; ours is an integer in minor units of ``currency`` (docs/api.md).
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from apps.stack.seed import upsert_pack
from shared.db.models import CheckoutSessionRecord
from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider
from tests.conftest import Stack
from tests.infra.lightning import BtcpaySandbox, btcpay_fixture  # noqa: F401
from tests.infra.revenuecat import RevenueCatSandbox
from tests.infra.topic_collector import Published

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]

SEED: dict[str, dict[str, str]] = {
    "MicroSaasPack": {
        "id": "string",
        "slug": "string",
        "displayName": "string",
        "description": "string",
        "features": "string[]",
        "price": "number",
        "currency": "string",
        "providerSkus": "{revenuecat?: string, lightning?: string}",
    },
    "CheckoutInput": {
        "userId": "string",
        "packId": "string",
        "provider": "Provider",
        "metadata": "Record<string, string>?",
    },
    "CheckoutSession": {
        "sessionId": "string",
        "provider": "Provider",
        "url": "string?",
        "lightningInvoice": "string?",
    },
    "EntitlementUpdate": {
        "userId": "string",
        "packId": "string",
        "status": '"active" | "expired" | "revoked"',
        "provider": "Provider",
        "reference": "string",
        "activationDate": "Date",
        "expirationDate": "Date?",
    },
}
PROVIDERS = ("revenuecat", "lightning")


def _is_date(value: object) -> bool:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string[]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "Provider": lambda v: v in PROVIDERS,
    "Record<string, string>": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
    "{revenuecat?: string, lightning?: string}": lambda v: (
        isinstance(v, dict)
        and set(v) <= set(PROVIDERS)
        and all(x is None or isinstance(x, str) for x in v.values())
    ),
    '"active" | "expired" | "revoked"': lambda v: v in ("active", "expired", "revoked"),
    "Date": _is_date,
}


def seed_violations(shape: str, document: dict[str, Any]) -> list[str]:
    """Every field of the seed's ``shape`` that ``document`` lacks or holds with the wrong JSON type."""
    problems = []
    for name, declared in SEED[shape].items():
        optional = declared.endswith("?")
        if name not in document:
            problems.append(f"{shape}.{name}: missing")
        elif not (
            (optional and document[name] is None) or TYPE_CHECKS[declared.removesuffix("?")](document[name])
        ):
            problems.append(f"{shape}.{name}: {document[name]!r} is not {declared}")
    return problems


@pytest.fixture
async def pack(stack: Stack) -> tuple[MicroSaasPack, dict[str, str]]:
    """A pack sold at both providers (Lightning in msat, so no price oracle); returns it and its SKUs."""
    suffix = uuid.uuid4().hex[:8]
    pack = MicroSaasPack(
        id=uuid.uuid4(),
        slug=f"seed-pack-{suffix}",
        display_name="Style Advisor",
        description="Outfits picked for you.",
        features=["style.advice"],
        default_price=499,
        billing_kind=BillingKind.ONE_TIME,
    )
    skus = {"revenuecat": f"com.hometryon.style.{suffix}", "lightning": f"ln-style-{suffix}"}
    listings = [
        ProviderProduct(
            provider=Provider.REVENUECAT, provider_product_id=skus["revenuecat"], currency="USD", price=499
        ),
        ProviderProduct(
            provider=Provider.LIGHTNING,
            provider_product_id=skus["lightning"],
            currency="BTC",
            price=4_990_000,
        ),
    ]
    async with stack.sessions() as session, session.begin():
        await upsert_pack(session, pack, listings)
    return pack, skus


def _seed_checkout(user_id: str, pack_id: str, provider: str, metadata: dict[str, str]) -> dict[str, Any]:
    """A CheckoutInput with exactly the seed's fields."""
    body = {"userId": user_id, "packId": pack_id, "provider": provider, "metadata": metadata}
    assert seed_violations("CheckoutInput", body) == []
    return body


async def _checkout(
    stack: Stack, http: httpx.AsyncClient, user_id: str, pack_id: str, provider: str, metadata: dict[str, str]
) -> dict[str, Any]:
    response = await http.post(
        f"{stack.gateway_url}/v1/checkout", json=_seed_checkout(user_id, pack_id, provider, metadata)
    )
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


@pytest.mark.parametrize("named_by", ["id", "slug"])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_checkout_with_the_seeds_input_answers_the_seeds_session(
    stack: Stack,
    http: httpx.AsyncClient,
    user_id: str,
    pack: tuple[MicroSaasPack, dict[str, str]],
    provider: str,
    named_by: str,
) -> None:
    sold, _ = pack
    pack_id = str(sold.id) if named_by == "id" else sold.slug

    session = await _checkout(stack, http, user_id, pack_id, provider, {"orderRef": "A-1"})

    assert seed_violations("CheckoutSession", session) == []
    assert (session["sessionId"], session["provider"], session["packId"]) == (
        session["id"],
        provider,
        str(sold.id),
    )
    assert session["packSlug"] == sold.slug  # today's fields stay beside the seed's
    if provider == "revenuecat":
        assert session["url"] == session["checkoutUrl"]
        assert session["lightningInvoice"] is None
    else:
        assert session["url"] == f"lightning:{session['lightningInvoice']}"


async def test_checkout_metadata_is_stored_with_the_session_and_set_as_revenuecat_attributes(
    stack: Stack, http: httpx.AsyncClient, user_id: str, pack: tuple[MicroSaasPack, dict[str, str]]
) -> None:
    metadata = {"orderRef": "A-1", "campaign": "winter.sale"}

    session = await _checkout(stack, http, user_id, str(pack[0].id), "revenuecat", metadata)

    assert session["metadata"] == metadata
    async with stack.sessions() as db:
        record = await db.get(CheckoutSessionRecord, uuid.UUID(session["sessionId"]))
    assert record is not None and record.details["metadata"] == metadata
    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    attributes = (await rc.customer_info(f"rc_{user_id}"))["subscriber"]["subscriber_attributes"]
    assert {key: attribute["value"] for key, attribute in attributes.items()} == metadata


async def test_checkout_metadata_reaches_the_btcpay_invoice(
    stack: Stack,
    http: httpx.AsyncClient,
    btcpay: BtcpaySandbox,
    user_id: str,
    pack: tuple[MicroSaasPack, dict[str, str]],
) -> None:
    metadata = {"orderRef": "B-2", "orderId": "the client's own"}

    session = await _checkout(stack, http, user_id, pack[0].slug, "lightning", metadata)

    async with stack.sessions() as db:
        record = await db.get(CheckoutSessionRecord, uuid.UUID(session["sessionId"]))
    assert record is not None and record.details["metadata"] == metadata
    invoice = await btcpay.greenfield("GET", f"/invoices/{await btcpay.invoice_id_for(session['sessionId'])}")
    assert invoice["metadata"]["orderRef"] == "B-2"
    assert invoice["metadata"]["orderId"] == session["sessionId"]  # ours: it ties the invoice to the session


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({f"k{i}": "v" for i in range(21)}, "metadata"),
        ({"k" * 41: "v"}, "metadata." + "k" * 41 + ".[key]"),
        ({"has space": "v"}, "metadata.has space.[key]"),
        ({"note": "v" * 501}, "metadata.note"),
        ({"count": 3}, "metadata.count"),
    ],
    ids=["too-many-entries", "key-too-long", "key-with-space", "value-too-long", "value-not-a-string"],
)
async def test_checkout_refuses_metadata_out_of_bounds_naming_the_field(
    stack: Stack,
    http: httpx.AsyncClient,
    user_id: str,
    pack: tuple[MicroSaasPack, dict[str, str]],
    metadata: dict[str, Any],
    field: str,
) -> None:
    body = {"userId": user_id, "packId": pack[0].slug, "provider": "revenuecat", "metadata": metadata}
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=body)
    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (
        "invalid_checkout",
        field,
    )


@pytest.mark.parametrize("named_by", ["id", "slug"])
async def test_checkout_refuses_pack_id_and_pack_slug_that_disagree(
    stack: Stack,
    http: httpx.AsyncClient,
    user_id: str,
    pack: tuple[MicroSaasPack, dict[str, str]],
    named_by: str,
) -> None:
    sold, _ = pack
    pack_id = str(sold.id) if named_by == "id" else sold.slug
    body = {"userId": user_id, "packId": pack_id, "packSlug": f"{sold.slug}-other", "provider": "revenuecat"}
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=body)
    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (
        "invalid_checkout",
        "packSlug",
    )


async def test_checkout_accepts_pack_id_and_pack_slug_that_agree(
    stack: Stack, http: httpx.AsyncClient, user_id: str, pack: tuple[MicroSaasPack, dict[str, str]]
) -> None:
    sold, _ = pack
    body = {"userId": user_id, "packId": str(sold.id), "packSlug": sold.slug, "provider": "revenuecat"}
    response = await http.post(f"{stack.gateway_url}/v1/checkout", json=body)
    assert response.status_code == 201, response.text


async def test_pack_listing_and_lookups_answer_the_seeds_micro_saas_pack(
    stack: Stack, http: httpx.AsyncClient, pack: tuple[MicroSaasPack, dict[str, str]]
) -> None:
    sold, skus = pack
    listed = (await http.get(f"{stack.gateway_url}/v1/packs")).json()["packs"]
    by_slug = (await http.get(f"{stack.gateway_url}/v1/packs/{sold.slug}")).json()
    by_id = (await http.get(f"{stack.gateway_url}/v1/packs/{sold.id}")).json()

    assert [problem for view in listed for problem in seed_violations("MicroSaasPack", view)] == []
    [mine] = [view for view in listed if view["id"] == str(sold.id)]
    assert mine == by_slug == by_id
    assert seed_violations("MicroSaasPack", mine) == []
    assert (mine["slug"], mine["displayName"], mine["description"], mine["features"]) == (
        sold.slug,
        "Style Advisor",
        "Outfits picked for you.",
        ["style.advice"],
    )
    assert (mine["price"], mine["currency"], mine["providerSkus"]) == (499, "USD", skus)
    assert mine["display_name"] == "Style Advisor"  # today's name stays beside the seed's


async def _purchase(
    stack: Stack,
    http: httpx.AsyncClient,
    btcpay: BtcpaySandbox,
    user_id: str,
    pack: tuple[MicroSaasPack, dict[str, str]],
    provider: str,
) -> Published:
    """Check out with the seed's input, pay at the provider's sandbox; the activation CloudEvent."""
    sold, skus = pack
    session = await _checkout(stack, http, user_id, str(sold.id), provider, {})
    if provider == "revenuecat":
        rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
        await rc.simulate("non-renewing-purchase", app_user_id=f"rc_{user_id}", product_id=skus["revenuecat"])
    else:
        await btcpay.pay(await btcpay.invoice_id_for(session["sessionId"]))
    return await stack.published.wait_for(
        stack.topics.entitlements,
        lambda r: user_id.encode() in r.value and r.json()["type"] == "entitlement.activated",
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_entitlement_read_and_cloudevent_data_carry_the_seeds_entitlement_update(
    stack: Stack,
    http: httpx.AsyncClient,
    btcpay: BtcpaySandbox,
    user_id: str,
    pack: tuple[MicroSaasPack, dict[str, str]],
    provider: str,
) -> None:
    event = await _purchase(stack, http, btcpay, user_id, pack, provider)
    read = (await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")).json()

    data = event.json()["data"]
    [entitlement] = read["entitlements"]
    assert seed_violations("EntitlementUpdate", data) == []
    assert seed_violations("EntitlementUpdate", entitlement) == []
    expected = {"userId": user_id, "packId": str(pack[0].id), "status": "active", "provider": provider}
    assert {key: data[key] for key in expected} == expected
    assert {key: entitlement[key] for key in expected} == expected
    assert data["reference"] == entitlement["reference"] == entitlement["purchase_reference"]
    assert data["activationDate"] == entitlement["activationDate"] == entitlement["activated_at"]
    assert (data["pack_slug"], data["source_provider"]) == (pack[0].slug, provider)  # today's names stay
