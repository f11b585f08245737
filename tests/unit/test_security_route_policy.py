"""Every gateway route has a deliberate policy: exempt by protocol, or a scope (admin by default)."""

from apps.gateway_process import build_gateway_process
from services.gateway.limits import valid_user_id
from services.gateway.route_policy import policy_for
from shared.security.api_keys import Scope
from shared.settings import Settings


def gateway_routes() -> set[tuple[str, str]]:
    app = build_gateway_process(Settings())
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


def test_only_provider_webhooks_lnurl_probes_and_marketplace_pages_are_exempt() -> None:
    exempt = {pattern for method, pattern in gateway_routes() if policy_for(method, pattern).exempt}
    # Marketplace pages authenticate with their signed session cookie (services/marketplace/).
    # The API's description (/openapi.json, /docs and its assets) holds no secret.
    allowed = ("/v1/webhooks/", "/v1/lnurl/", "/healthz", "/readyz", "/metrics", "/market/", "/paywall")
    allowed += ("/asyncapi.json",)  # a generated document, no data
    allowed += ("/openapi.json", "/docs")
    assert exempt and all(pattern.startswith(allowed) for pattern in exempt)


def test_privacy_endpoints_need_admin() -> None:
    assert policy_for("DELETE", "/v1/users/{user_id}").scope is Scope.ADMIN
    assert policy_for("GET", "/v1/users/{user_id}/export").scope is Scope.ADMIN


def test_unlisted_route_needs_admin() -> None:
    assert policy_for("POST", "/v1/something/new").scope is Scope.ADMIN


def test_entitlements_need_entitlements_read() -> None:
    assert policy_for("GET", "/v1/users/{user_id}/entitlements").scope is Scope.ENTITLEMENTS_READ


def test_user_ids_with_markup_or_sql_are_refused() -> None:
    refused = ["<script>alert(1)</script>", "x' OR '1'='1", "a; DROP TABLE user_entitlements", "", "a" * 201]
    assert not any(valid_user_id(value) for value in refused)


def test_ordinary_user_ids_are_accepted() -> None:
    accepted = [
        "user-1a2b",
        "alice@example.com",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "org:42.user+x",
        "user_1",
    ]
    assert all(valid_user_id(value) for value in accepted)
