"""The gateway's OpenAPI document: valid OpenAPI 3.1, and in step with the router and its policies."""

from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator

from apps.gateway_process import build_gateway_process
from services.gateway.api_docs import gateway_openapi
from services.gateway.api_spec import documented_routes, is_api_route
from services.gateway.route_policy import policy_for
from shared.settings import Settings

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
# LUD-06 answers wallets in its own shape; readiness reports each dependency.
OWN_ERROR_SHAPES = {"/v1/lnurl/pay/{sessionId}", "/v1/lnurl/pay/{sessionId}/callback", "/readyz"}


def served_api_routes() -> set[tuple[str, str]]:
    app = build_gateway_process(Settings())
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.method not in {"HEAD", "*"}
        and is_api_route(route.resource.canonical)
    }


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, methods in gateway_openapi()["paths"].items()
        for method, op in methods.items()
    ]


def test_the_document_is_valid_openapi_3_1() -> None:
    document = gateway_openapi()
    assert document["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(document).validate()


def test_every_route_the_gateway_serves_is_documented_and_nothing_else() -> None:
    served = served_api_routes()
    assert served - documented_routes() == set(), "routes without an entry in api_spec.OPERATIONS"
    assert documented_routes() - served == set(), "entries for routes the gateway does not serve"


def test_only_the_marketplace_pages_and_the_docs_assets_are_left_out() -> None:
    app = build_gateway_process(Settings())
    left_out = {r.resource.canonical for r in app.router.routes() if r.resource is not None} - {
        path for _, path in served_api_routes()
    }
    assert all(p.startswith(("/market/", "/paywall", "/docs/static")) for p in left_out), left_out


def test_each_operation_documents_the_security_its_route_policy_enforces() -> None:
    schemes = set(gateway_openapi()["components"]["securitySchemes"])
    assert {"ApiKey", "BearerToken", "RevenueCatAuthorization", "BTCPaySig", "StandardWebhooks"} <= schemes
    for method, path, op in operations():
        named = {name for requirement in op["security"] for name in requirement}
        assert named <= schemes
        if path.startswith("/v1/webhooks/"):
            assert named == {"RevenueCatAuthorization", "BTCPaySig", "StandardWebhooks"}
        elif policy_for(method, path).exempt:
            assert named == set(), path
        else:
            assert named == {"ApiKey", "BearerToken"}, path
            assert {"401", "403", "429"} <= set(op["responses"]), path


def test_every_error_answer_is_the_error_shape() -> None:
    for _, path, op in operations():
        for status, answer in op["responses"].items():
            if int(status) < 400 or path in OWN_ERROR_SHAPES:
                continue
            assert answer["content"]["application/json"]["schema"] == ERROR_REF, (path, status)


def test_request_and_answer_bodies_come_from_the_handlers_models() -> None:
    schemas = gateway_openapi()["components"]["schemas"]
    for name in ("CheckoutInput", "CheckoutSession", "PackView", "EntitlementView", "PackSpec", "ErrorBody"):
        assert name in schemas, name
    checkout = next(op for m, p, op in operations() if (m, p) == ("POST", "/v1/checkout"))
    assert checkout["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CheckoutInput"
    }
    # The seed's names, as the models write them.
    assert {"sessionId", "url", "lightningInvoice"} <= set(schemas["CheckoutSession"]["properties"])
    assert {"displayName", "providerSkus"} <= set(schemas["PackView"]["properties"])
