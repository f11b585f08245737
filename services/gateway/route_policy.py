"""Which API scope each gateway route needs; routes not listed need ``admin`` (deny by default).

Exempt routes authenticate otherwise (provider webhooks: their signature schemes; marketplace pages:
their signed session cookie) or are public by protocol (LNURL-pay is fetched by any wallet; health
probes and Prometheus scraping; the OpenAPI document and its page).
"""

from dataclasses import dataclass

from shared.security.api_keys import Scope

EXEMPT_PREFIXES = ("/v1/webhooks/", "/v1/lnurl/", "/market/", "/paywall", "/docs/")
# The API's own description (/openapi.json, /docs) is public: it holds no secret.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})

# (method, route pattern) → scope. Patterns are aiohttp's canonical resource paths.
ROUTE_SCOPES: dict[tuple[str, str], Scope] = {
    ("GET", "/v1/packs"): Scope.PACKS_READ,
    ("GET", "/v1/packs/{slug}"): Scope.PACKS_READ,
    ("POST", "/v1/checkout"): Scope.CHECKOUT_WRITE,
    ("GET", "/v1/users/{user_id}/entitlements"): Scope.ENTITLEMENTS_READ,
    ("GET", "/v1/users/{user_id}/features/{feature}"): Scope.ENTITLEMENTS_READ,
    ("GET", "/v1/receipts/{purchaseReference}"): Scope.ENTITLEMENTS_READ,
}
# User-token routes whose path names no user: the handler narrows the answer to the token's user.
OWNER_CHECKED_BY_HANDLER = frozenset({("GET", "/v1/receipts/{purchaseReference}")})
# Generated documents, public: the AsyncAPI document of the topics (services/gateway/asyncapi.py).
PUBLIC_DOCUMENTS = frozenset({"/asyncapi.json"})


@dataclass(frozen=True)
class RoutePolicy:
    exempt: bool
    scope: Scope
    owner_checked_by_handler: bool = False


def policy_for(method: str, pattern: str) -> RoutePolicy:
    if pattern in EXEMPT_PATHS or pattern in PUBLIC_DOCUMENTS or pattern.startswith(EXEMPT_PREFIXES):
        return RoutePolicy(exempt=True, scope=Scope.ADMIN)
    key = ("GET" if method == "HEAD" else method, pattern)
    return RoutePolicy(
        exempt=False,
        scope=ROUTE_SCOPES.get(key, Scope.ADMIN),
        owner_checked_by_handler=key in OWNER_CHECKED_BY_HANDLER,
    )
