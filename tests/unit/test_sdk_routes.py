"""The SDK speaks the gateway's routes: every client method's method and path is one the app serves
(its aiohttp router) and one its OpenAPI document describes, and the checkout body's names are the
document's."""

import inspect
import re

import pytest
from hometryon_billing import AsyncBillingClient, BillingClient, calls
from hometryon_billing.models import CheckoutInput

from apps.gateway_process import build_gateway_process
from services.gateway.api_docs import gateway_openapi
from shared.settings import Settings


def _shape(path: str) -> str:
    """``/v1/users/{user_id}/x`` and ``/v1/users/{id}/x`` are one route: compare without names."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def gateway_routes() -> set[tuple[str, str]]:
    app = build_gateway_process(Settings())
    return {
        (route.method, _shape(route.resource.canonical))
        for route in app.router.routes()
        if route.resource is not None
    }


def test_every_sdk_route_is_served_by_the_gateway() -> None:
    served = gateway_routes()
    missing = {
        name: route for name, route in calls.ROUTES.items() if (route[0], _shape(route[1])) not in served
    }
    assert missing == {}


def test_every_sdk_route_is_an_operation_of_the_openapi_document() -> None:
    paths = gateway_openapi()["paths"]
    documented = {(method.upper(), _shape(path)) for path, item in paths.items() for method in item}
    missing = {
        name: route for name, route in calls.ROUTES.items() if (route[0], _shape(route[1])) not in documented
    }
    assert missing == {}


def test_the_checkout_body_the_sdk_sends_uses_only_names_the_document_accepts() -> None:
    document = gateway_openapi()
    body = document["paths"]["/v1/checkout"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    sent = calls.checkout(CheckoutInput(user_id="u", pack_id="p", provider="lightning", metadata={})).json
    assert set(sent) <= set(schema["properties"])


@pytest.mark.parametrize("client", [BillingClient, AsyncBillingClient])
def test_each_route_has_a_method_on_both_clients_and_nothing_else_is_public(client: type) -> None:
    public = {name for name, _ in inspect.getmembers(client, inspect.isfunction) if not name.startswith("_")}
    assert public - {"run", "close", "aclose"} == set(calls.ROUTES)


def test_path_parameters_stay_one_segment() -> None:
    # A user id with "/" or "?" must not reach another route or add a query.
    call = calls.check_feature("a/../../admin?x=1", "f")
    assert call.path == "/v1/users/a%2F..%2F..%2Fadmin%3Fx%3D1/features/f"


def test_checkout_is_sent_in_the_seeds_names_without_unset_fields() -> None:
    wanted = CheckoutInput(user_id="alice", pack_id="pack-1", provider="lightning", metadata={"k": "v"})
    assert calls.checkout(wanted).json == {
        "userId": "alice",
        "packId": "pack-1",
        "provider": "lightning",
        "metadata": {"k": "v"},
    }
