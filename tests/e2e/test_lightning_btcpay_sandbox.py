"""The BTCPay sandbox answers with Greenfield's shapes (property names from the OpenAPI templates in
../shared/specs/btcpay, kept here as fixtures) and behaves as BTCPay does where we depend on it."""

import json

import httpx
import pytest

from shared.connectors.lightning.bolt11_invoices import decode_invoice
from tests.conftest import Stack
from tests.infra.lightning import BtcpaySandbox, btcpay_fixture  # noqa: F401
from tests.infra.specs import spec_path

INVOICE_DATA = {
    "id",
    "storeId",
    "amount",
    "paidAmount",
    "currency",
    "type",
    "checkoutLink",
    "createdTime",
    "expirationTime",
    "monitoringExpiration",
    "status",
    "additionalStatus",
    "availableStatusesForManualMarking",
    "archived",
    "metadata",
    "checkout",
    "receipt",
}
PAYMENT_METHOD = {
    "paymentMethodId",
    "currency",
    "destination",
    "paymentLink",
    "rate",
    "paymentMethodPaid",
    "totalPaid",
    "due",
    "amount",
    "paymentMethodFee",
    "payments",
    "activated",
    "additionalData",
}
OFFERING_PLAN = {
    "id",
    "name",
    "status",
    "price",
    "currency",
    "recurringType",
    "gracePeriodDays",
    "trialDays",
    "description",
    "memberCount",
    "optimisticActivation",
    "features",
    "renewable",
    "metadata",
}


def _spec_properties(file: str, schema: str) -> set[str]:
    """Every property a schema names, following allOf into the same file's components."""
    schemas = json.loads(spec_path("btcpay", file).read_text())["components"]["schemas"]
    found: set[str] = set()
    stack = [schemas[schema]]
    while stack:
        node = stack.pop()
        found |= set(node.get("properties", {}))
        for part in node.get("allOf", []):
            ref = part.get("$ref", "")
            stack.append(schemas[ref.rsplit("/", 1)[1]] if ref.startswith("#/components/schemas/") else part)
    return found


@pytest.mark.parametrize(
    ("fixture", "file", "schema"),
    [
        (INVOICE_DATA, "swagger.template.invoices.json", "InvoiceData"),
        (PAYMENT_METHOD, "swagger.template.invoices.json", "InvoicePaymentMethodDataModel"),
        (OFFERING_PLAN, "swagger.template.subscriptions.json", "OfferingPlanModel"),
    ],
)
def test_fixtures_match_the_published_spec(fixture: set[str], file: str, schema: str) -> None:
    assert fixture == _spec_properties(file, schema)


async def test_invoice_and_payment_methods_have_greenfield_shapes_and_a_real_bolt11(
    btcpay: BtcpaySandbox,
) -> None:
    invoice = await btcpay.greenfield(
        "POST",
        "/invoices",
        json={
            "amount": "0.00012345",
            "currency": "BTC",
            "checkout": {"paymentMethods": ["BTC-LightningNetwork", "BTC-LNURLPAY"], "expirationMinutes": 10},
        },
    )
    methods = await btcpay.greenfield("GET", f"/invoices/{invoice['id']}/payment-methods")

    assert set(invoice) == INVOICE_DATA
    assert [m["paymentMethodId"] for m in methods] == ["BTC-LN", "BTC-LNURL"]
    assert all(set(m) == PAYMENT_METHOD for m in methods)
    bolt11 = decode_invoice(methods[0]["destination"])
    assert bolt11.amount_msat == 12_345_000
    assert int(bolt11.expires_at.timestamp()) == invoice["expirationTime"]


async def test_greenfield_refuses_a_request_without_the_api_key(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    base = stack.sandbox_urls["btcpay"]
    response = await http.post(
        f"{base}/api/v1/stores/{stack.settings.btcpay.store_id}/invoices", json={"amount": "1"}
    )

    assert response.status_code == 401


async def test_redelivery_is_a_new_delivery_of_the_original(stack: Stack, btcpay: BtcpaySandbox) -> None:
    webhook = await btcpay.greenfield(
        "POST", "/webhooks", json={"url": f"{stack.gateway_url}/v1/webhooks/lightning", "enabled": False}
    )
    assert webhook["secret"]
    hooks = await btcpay.greenfield("GET", "/webhooks")
    assert webhook["id"] in [h["id"] for h in hooks]
    active = next(h for h in hooks if h["enabled"])  # the one the session registered at start-up
    await btcpay.greenfield("POST", "/invoices", json={"amount": "0.0001", "currency": "BTC"})
    first = next(d for d in await btcpay.deliveries() if d["request"]["webhookId"] == active["id"])

    redelivery_id = await btcpay.greenfield(
        "POST", f"/webhooks/{active['id']}/deliveries/{first['id']}/redeliver"
    )
    request = await btcpay.greenfield("GET", f"/webhooks/{active['id']}/deliveries/{redelivery_id}/request")

    assert request["isRedelivery"] is True
    assert request["originalDeliveryId"] == first["request"]["originalDeliveryId"]
    assert request["deliveryId"] == redelivery_id != first["id"]


async def test_offerings_and_plans_can_be_listed_created_and_updated(btcpay: BtcpaySandbox) -> None:
    offering = await btcpay.greenfield(
        "POST",
        "/offerings",
        json={"appName": "HomeTryOn", "features": [{"id": "try_on.3d", "description": "3D"}]},
    )
    plan = await btcpay.greenfield(
        "POST",
        f"/offerings/{offering['id']}/plans",
        json={
            "name": "Monthly",
            "price": "4.99",
            "currency": "USD",
            "recurringType": "Monthly",
            "features": ["try_on.3d"],
        },
    )
    updated = await btcpay.greenfield(
        "PUT",
        f"/offerings/{offering['id']}/plans/{plan['id']}",
        json={"name": "Monthly", "price": "5.99", "currency": "USD", "recurringType": "Monthly"},
    )
    renamed = await btcpay.greenfield(
        "PUT", f"/offerings/{offering['id']}", json={"appName": "HomeTryOn Packs"}
    )
    listed = await btcpay.greenfield("GET", "/offerings")

    assert set(plan) == OFFERING_PLAN
    assert updated["price"] == "5.99"
    assert renamed["appName"] == "HomeTryOn Packs"
    mine = next(o for o in listed if o["id"] == offering["id"])
    assert [p["price"] for p in mine["plans"]] == ["5.99"]
