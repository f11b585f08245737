"""The RevenueCat sandbox and our parsers against RevenueCat's published specs (``../shared/specs``).

The subscriber response is validated against the official v1 OpenAPI ``Subscriber`` schema, and every
official sample webhook must parse with our model and be matched, field for field, by the sandbox.
Skipped only when the spec files are absent (they live beside the repo, not in it).
"""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp.test_utils import TestServer
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator

from sandboxes.revenuecat.app import build_app
from sandboxes.revenuecat.config import SandboxConfig
from shared.connectors.revenuecat.customer_info import CustomerInfo
from shared.connectors.revenuecat.events import RevenueCatWebhook
from shared.connectors.revenuecat.normalize import EVENT_RULES
from tests.infra.specs import SPECS_ROOT, spec_path

SAMPLE_EVENTS = SPECS_ROOT / "revenuecat" / "sample-events"
API_KEY = "sk_conformance"


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(spec_path("revenuecat", "api-v1.yaml").read_text())
    return spec


def _samples() -> list[Path]:
    return sorted(SAMPLE_EVENTS.glob("*.json")) if SAMPLE_EVENTS.exists() else []


def _with_documented_nulls(schema: Any, example: Any) -> Any:
    """The spec marks no field nullable, yet its own example and descriptions say some are ``null``
    (lifetime ``expires_date``, no ``refunded_at``, no ``management_url``...): allow null exactly there."""
    if isinstance(schema, list):
        return [_with_documented_nulls(s, example) for s in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {k: v for k, v in schema.items() if k != "example"}
    properties = schema.get("properties", {})
    for name, sub in list(properties.items()):
        sub_example = example.get(name) if isinstance(example, dict) else None
        null_in_example = isinstance(example, dict) and name in example and example[name] is None
        null_described = "null" in str(sub.get("description", "")) or sub.get("example", "") is None
        properties[name] = _with_documented_nulls(sub, sub_example) | (
            {"nullable": True} if null_in_example or null_described else {}
        )
    if isinstance(schema.get("additionalProperties"), dict):
        values = list(example.values()) if isinstance(example, dict) else []
        schema["additionalProperties"] = _with_documented_nulls(
            schema["additionalProperties"], _merged(values)
        )
    if isinstance(schema.get("items"), dict):
        schema["items"] = _with_documented_nulls(schema["items"], _merged(example or []))
    return schema


def _merged(examples: list[Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in examples:
        if isinstance(item, dict):
            for key, value in item.items():
                if value is None or key not in merged:
                    merged[key] = value
    return merged


@pytest.fixture
async def sandbox() -> AsyncIterator[str]:
    config = SandboxConfig(
        webhook_url="http://127.0.0.1:9/unused", webhook_authorization="", api_key=API_KEY, api_v2_key=""
    )
    server = TestServer(build_app(config), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def _customer_with_every_kind_of_purchase(
    http: httpx.AsyncClient, base: str, user: str
) -> dict[str, Any]:
    control = f"{base}/control/simulate"
    for kind, body in [
        ("purchase", {"product_id": "weekly", "entitlement_ids": ["pro"]}),
        ("purchase", {"product_id": "monthly", "period": "P1M"}),
        ("cancellation", {"product_id": "monthly"}),
        ("purchase", {"product_id": "annual", "period": "P1Y", "store": "PLAY_STORE"}),
        ("billing-issue", {"product_id": "annual"}),
        ("non-renewing-purchase", {"product_id": "lifetime", "entitlement_ids": ["lifetime"]}),
        ("purchase", {"product_id": "refunded"}),
        ("refund", {"product_id": "refunded"}),
    ]:
        response = await http.post(f"{control}/{kind}", json={"app_user_id": user, "deliver": "hold", **body})
        assert response.status_code == 200, response.text
    answer = await http.get(f"{base}/v1/subscribers/{user}", headers={"Authorization": f"Bearer {API_KEY}"})
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


async def test_subscriber_response_conforms_to_the_v1_openapi_schema(sandbox: str) -> None:
    spec = _spec()
    example = spec["components"]["examples"]["Subscriber"]["value"]
    schema = _with_documented_nulls(spec["components"]["schemas"]["Subscriber"], example)
    OAS30Validator(schema).validate(example)  # the relaxation admits the spec's own example

    async with httpx.AsyncClient() as http:
        body = await _customer_with_every_kind_of_purchase(http, sandbox, "rc_conformance")

    OAS30Validator(schema).validate(body)
    assert set(body["subscriber"]["subscriptions"]) == {"weekly", "monthly", "annual", "refunded"}
    assert set(body["subscriber"]["entitlements"]) == {"pro", "lifetime"}
    CustomerInfo.model_validate(body)


@pytest.mark.parametrize(
    ("field", "value"), [("ownership_type", "BORROWED"), ("is_sandbox", "yes"), ("store", None)]
)
async def test_schema_check_rejects_a_malformed_subscription(sandbox: str, field: str, value: object) -> None:
    spec = _spec()
    example = spec["components"]["examples"]["Subscriber"]["value"]
    schema = _with_documented_nulls(spec["components"]["schemas"]["Subscriber"], example)
    async with httpx.AsyncClient() as http:
        body = await _customer_with_every_kind_of_purchase(http, sandbox, f"rc_malformed_{field}")
    body["subscriber"]["subscriptions"]["weekly"][field] = value
    with pytest.raises(ValidationError):
        OAS30Validator(schema).validate(body)


async def test_subscriber_endpoint_requires_the_secret_key(sandbox: str) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{sandbox}/v1/subscribers/rc_x", headers={"Authorization": "Bearer sk_wrong"}
        )
    assert answer.status_code == 401
    assert answer.json()["message"] == "Invalid API key."


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_official_sample_event_parses_and_has_a_rule(sample: Path) -> None:
    webhook = RevenueCatWebhook.model_validate_json(sample.read_bytes())
    assert webhook.event.type in EVENT_RULES
    assert webhook.event.id


def test_official_samples_are_present_when_the_specs_are() -> None:
    spec_path("revenuecat", "sample-events")
    assert len(_samples()) >= 13


SIMULATION_FOR_SAMPLE = {
    "INITIAL_PURCHASE.json": [("purchase", {})],
    "RENEWAL.json": [("purchase", {}), ("renewal", {})],
    "CANCELLATION.json": [("purchase", {}), ("cancellation", {})],
    "CANCELLATION.refund.json": [("purchase", {}), ("refund", {})],
    "UNCANCELLATION.json": [("purchase", {}), ("uncancellation", {})],
    "NON_RENEWING_PURCHASE.json": [("non-renewing-purchase", {})],
    "SUBSCRIPTION_PAUSED.json": [("purchase", {}), ("pause", {})],
    "EXPIRATION.json": [("purchase", {}), ("expiration", {})],
    "BILLING_ISSUE.json": [("purchase", {}), ("billing-issue", {})],
    "PRODUCT_CHANGE.json": [("purchase", {}), ("product-change", {"new_product_id": "yearly"})],
    "SUBSCRIPTION_EXTENDED.json": [("purchase", {}), ("extension", {})],
}
# Sample fields that depend on the account, not the event type (A/B experiments, dashboard options).
ACCOUNT_FIELDS = {"experiments", "price_experiments", "is_family_share", "country_code", "app_id"}


@pytest.mark.parametrize("sample_name", sorted(SIMULATION_FOR_SAMPLE))
async def test_sandbox_event_carries_every_field_of_the_official_sample(
    sandbox: str, sample_name: str
) -> None:
    sample_file = spec_path("revenuecat", "sample-events", sample_name)
    sample = json.loads(sample_file.read_text())["event"]
    user = f"rc_{sample_name}"
    async with httpx.AsyncClient() as http:
        for kind, extra in SIMULATION_FOR_SAMPLE[sample_name]:
            body = {"app_user_id": user, "product_id": "weekly", "deliver": "hold", **extra}
            response = await http.post(f"{sandbox}/control/simulate/{kind}", json=body)
            assert response.status_code == 200, response.text
    event = response.json()["event"]
    assert (event["type"], event.get("cancel_reason")) == (sample["type"], sample.get("cancel_reason"))
    assert set(sample) - ACCOUNT_FIELDS <= set(event)
    RevenueCatWebhook.model_validate({"api_version": "1.0", "event": event})
