"""Every JSON route of the gateway with its parameters, request model and answers: the table the
OpenAPI document (``/openapi.json``) is built from. ``tests/unit/test_openapi_document.py`` fails
when the router serves a route this table lacks, or the table names one the router does not serve.

The answers every route shares come from the middlewares (services/gateway/security.py): 400 for
unsafe text, 401/403/429 on the routes API keys guard (route_policy.py), 413/415 on bodies, 503
when a dependency is down. The marketplace's HTML pages are not part of the API.
"""

from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from services.gateway import api_models as m
from services.gateway.limits import USER_ID
from services.gateway.pack_views import PackView
from services.gateway.privacy import UserTokenRequest
from services.gateway.revocations import RevokeByIdRequest, RevokeRequest
from services.gateway.route_policy import policy_for
from shared.catalog.model import PackSpec
from shared.connectors.lightning.http.refunds import RefundRequest
from shared.connectors.revenuecat.events import RevenueCatWebhook
from shared.domain.checkout import CheckoutInput, CheckoutSession
from shared.domain.provider import Provider
from shared.http.openapi import Answer, Operation, Parameter, Schema

NOT_API_PREFIXES = ("/market/", "/paywall", "/docs/static")
API_KEY_SCHEMES = ("ApiKey", "BearerToken")
WEBHOOK_SCHEMES = ("RevenueCatAuthorization", "BTCPaySig", "StandardWebhooks")
SECURITY_SCHEMES: dict[str, Schema] = {
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "billing apikeys create",
    },
    "BearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "an API key, or a user token (POST /v1/users/{user_id}/tokens) for that user's reads",
    },
    "RevenueCatAuthorization": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "the Authorization value set in RevenueCat's webhook settings (revenuecat only)",
    },
    "BTCPaySig": {
        "type": "apiKey",
        "in": "header",
        "name": "BTCPay-Sig",
        "description": "sha256=<hex HMAC-SHA256 of the raw body> under the BTCPay webhook secret (lightning)",
    },
    "StandardWebhooks": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks (Alby Hub): v1,<base64 HMAC> of id.timestamp.body, "
        "with the webhook-id and webhook-timestamp headers (lightning)",
    },
}
RETRY_AFTER = {"Retry-After": "seconds to wait"}
ACK_HEADERS = {
    "webhook-id": "Standard Webhooks signature of this answer",
    "webhook-timestamp": "when it was signed",
    "webhook-signature": "v1,<base64 HMAC-SHA256> under ack_signing_secret",
}
CACHE_HEADERS = {"ETag": "the version of the answer", "Cache-Control": "public, max-age=60"}


def error(description: str, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(description, m.ErrorBody, headers=headers or {})


def ok(model: type[BaseModel] | tuple[type[BaseModel], ...], description: str = "done") -> Answer:
    return Answer(description, model)


def path(name: str, description: str = "", schema: Schema | None = None) -> Parameter:
    return Parameter(name, "path", schema or {"type": "string", "minLength": 1}, description, required=True)


def query(name: str, description: str, schema: Schema | None = None) -> Parameter:
    return Parameter(name, "query", schema or {"type": "string"}, description)


def header(name: str, description: str) -> Parameter:
    return Parameter(name, "header", {"type": "string"}, description)


USER = path("user_id", "our user id", {"type": "string", "pattern": f"^{USER_ID.pattern}$"})
AS_OF = (
    query("at", "RFC 3339 date-time: the answer as it stood then (the provider's clock)"),
    query("known_at", "RFC 3339 date-time: only what we had recorded by then (our clock)"),
)
MARKET_USER = (
    query("market", "ISO 3166-1 alpha-2: applies the pack's market gates"),
    query("user", "a user id: applies the pack's rollouts"),
)
PROVIDERS = {"type": "string", "enum": [p.value for p in Provider]}
NOT_MODIFIED = Answer("the client's If-None-Match is current", headers=CACHE_HEADERS)
PROVIDER_FAILED = error("the provider failed (retryable)")
HTML = Answer("a page for people", schema={"type": "string"}, content_type="text/html")

OPERATIONS: list[Operation] = [
    Operation("GET", "/v1/packs", "Active packs (MicroSaasPack)", "packs",
              {200: Answer("the packs", m.PackList, headers=CACHE_HEADERS), 304: NOT_MODIFIED,
               400: error("a bad filter")},
              [query("provider", "only packs sold there", PROVIDERS), *MARKET_USER,
               header("If-None-Match", "an ETag held")]),
    Operation("GET", "/v1/packs/{slug}", "One pack, by slug or id", "packs",
              {200: Answer("the pack", PackView, headers=CACHE_HEADERS), 304: NOT_MODIFIED,
               404: error("no such pack")},
              [path("slug", "the pack's slug or id"), *MARKET_USER, header("If-None-Match", "an ETag held")]),
    Operation("POST", "/v1/checkout", "Start a purchase (CheckoutInput → CheckoutSession)", "checkout",
              {201: ok(CheckoutSession, "the session"), 400: error("not a valid CheckoutInput"),
               404: error("no active pack"), 409: error("Idempotency-Key reused or in use"),
               422: error("the pack is not sold so, or the provider refused"), 502: PROVIDER_FAILED},
              [header("Idempotency-Key", "the same key answers the same session"),
               header("X-Market", "the buyer's country (ISO 3166-1 alpha-2)")], body=CheckoutInput),
    Operation("GET", "/v1/users/{user_id}/entitlements", "A user's entitlements (EntitlementUpdate)",
              "entitlements", {200: ok(m.UserEntitlements), 400: error("a bad user id or time")},
              [USER, *AS_OF]),
    Operation("GET", "/v1/users/{user_id}/features/{feature}", "Is the user allowed a feature?",
              "entitlements", {200: ok(m.FeatureCheck), 400: error("a bad user id or time")},
              [USER, path("feature"), *AS_OF]),
    Operation("GET", "/v1/receipts/{purchaseReference}", "A purchase's Lightning receipts", "lightning",
              {200: ok(m.Receipts), 404: error("no receipt (or not this user's)")},
              [path("purchaseReference")]),
    Operation("POST", "/v1/webhooks/{provider}", "A provider's webhook delivery", "webhooks",
              {200: Answer("durably on Kafka", m.WebhookAccepted, headers=ACK_HEADERS),
               400: error("not the provider's envelope", ACK_HEADERS),
               401: error("wrong signature or Authorization value", ACK_HEADERS),
               404: error("no webhooks for this provider", ACK_HEADERS)},
              [path("provider", "revenuecat or lightning", PROVIDERS),
               header("webhook-id", "Standard Webhooks"), header("webhook-timestamp", "Standard Webhooks")],
              body=(RevenueCatWebhook, m.LightningWebhook)),
    Operation("GET", "/v1/lnurl/pay/{sessionId}", "LNURL-pay payRequest (LUD-06)", "lightning",
              {200: ok((m.LnurlPayRequest, m.LnurlError), "payRequest, or LUD-06's ERROR"),
               404: ok((m.LnurlError, m.ErrorBody), "unknown checkout")},
              [path("sessionId", "the checkout session")]),
    Operation("GET", "/v1/lnurl/pay/{sessionId}/callback", "LNURL-pay invoice (LUD-06)", "lightning",
              {200: ok((m.LnurlInvoice, m.LnurlError), "the BOLT11, or LUD-06's ERROR"),
               400: ok((m.LnurlError, m.ErrorBody), "amount missing"),
               404: ok((m.LnurlError, m.ErrorBody), "unknown checkout")},
              [path("sessionId", "the checkout session"),
               Parameter("amount", "query", {"type": "integer", "minimum": 1}, "msat", required=True)]),
    Operation("POST", "/v1/lightning/refunds", "Refund a Lightning purchase", "lightning",
              {202: ok(m.Refund, "processing"), 400: error("not a refund request"),
               404: error("no such purchase"), 422: error("lightning not configured or refused"),
               502: PROVIDER_FAILED}, body=RefundRequest),
    Operation("GET", "/v1/lightning/refunds/{refundId}", "A refund's state", "lightning",
              {200: ok(m.Refund), 404: error("no such refund")}, [path("refundId")]),
    Operation("POST", "/v1/admin/entitlements/{entitlement_id}/revoke", "Revoke an entitlement by id",
              "admin", {202: ok(m.RevocationAccepted, "accepted"), 400: error("a bad id or reason"),
                        404: error("no such entitlement"), 422: error("provider refused"),
                        502: PROVIDER_FAILED},
              [path("entitlement_id", "uuid")], body=RevokeByIdRequest),
    Operation("POST", "/v1/admin/entitlements/revoke", "Revoke a purchase's entitlement", "admin",
              {202: ok(m.RevocationAccepted, "accepted"), 400: error("not a revocation"),
               404: error("no such entitlement"), 422: error("provider refused"), 502: PROVIDER_FAILED},
              body=RevokeRequest),
    Operation("POST", "/v1/admin/packs", "Create a pack", "admin",
              {201: ok(m.PackWritten, "created"), 400: error("not a pack"), 409: error("it exists"),
               422: error("the catalog would be invalid")}, body=PackSpec),
    Operation("PUT", "/v1/admin/packs/{slug}", "Update a pack", "admin",
              {200: ok(m.PackWritten, "updated"), 400: error("not a pack"), 404: error("no such pack"),
               422: error("the catalog would be invalid")}, [path("slug")], body=PackSpec),
    Operation("POST", "/v1/admin/packs/{slug}/deactivate", "Stop selling a pack", "admin",
              {200: ok(m.PackWritten, "deactivated"), 404: error("no such pack"),
               422: error("the catalog would be invalid")}, [path("slug")]),
    Operation("POST", "/v1/users/{user_id}/tokens", "Mint a user token", "admin",
              {201: ok(m.UserToken, "the token, shown once"), 400: error("a bad request")}, [USER],
              body=UserTokenRequest),
    Operation("GET", "/v1/users/{user_id}/export", "GDPR export", "admin",
              {200: ok(m.UserExport), 400: error("a bad user id")}, [USER]),
    Operation("DELETE", "/v1/users/{user_id}", "GDPR erasure", "admin",
              {200: ok(m.UserErased), 400: error("a bad user id")}, [USER]),
    Operation("GET", "/healthz", "Liveness", "operations", {200: ok(m.Liveness)}),
    Operation("GET", "/readyz", "Readiness of Postgres and Kafka", "operations",
              {200: ok(m.Readiness, "ready or degraded (Redis down)"),
               503: Answer("Postgres or Kafka down", m.Readiness)}),
    Operation("GET", "/metrics", "Prometheus metrics", "operations",
              {200: Answer("text exposition format", schema={"type": "string"}, content_type="text/plain")}),
    Operation("GET", "/openapi.json", "This document", "operations",
              {200: Answer("OpenAPI 3.1", schema={"type": "object"})}),
    Operation("GET", "/docs", "This document for people (Swagger UI)", "operations", {200: HTML}),
    Operation("GET", "/asyncapi.json", "The topics' AsyncAPI 3 document (docs/events.md)", "operations",
              {200: Answer("AsyncAPI 3.0", schema={"type": "object"}),
               404: error("this deployment ships no docs/ folder")}),
]  # fmt: skip


def _shared_answers(op: Operation) -> dict[int, Answer]:
    """What the middlewares answer on this route, before or instead of its handler."""
    shared = {400: error("NUL or a lone surrogate in a parameter or the body")}
    if not policy_for(op.method, op.path).exempt:
        shared |= {
            401: error("no valid API key"),
            403: error("the key lacks the route's scope, or a user token reads another user"),
            429: error("over the key's rate", RETRY_AFTER),
        }
    if op.method in {"POST", "PUT", "PATCH"}:
        shared |= {413: error("body over the limit"), 415: error("the body is not JSON")}
    if op.path not in {"/healthz", "/metrics", "/openapi.json", "/docs", "/asyncapi.json"}:
        shared[503] = error("a dependency is down; retry", RETRY_AFTER)
    return shared


def gateway_operations() -> Sequence[Operation]:
    """Every operation with its answers and the security that admits it (route_policy.py)."""
    completed = []
    for op in OPERATIONS:
        policy = policy_for(op.method, op.path)
        if op.path.startswith("/v1/webhooks/"):
            security: Sequence[str] = WEBHOOK_SCHEMES
        else:
            security = () if policy.exempt else API_KEY_SCHEMES
        answers = _shared_answers(op) | dict(op.answers)
        completed.append(Operation(op.method, op.path, op.summary, op.tag, answers, op.parameters,
                                   op.body, security))  # fmt: skip
    return completed


def documented_routes() -> set[tuple[str, str]]:
    return {(op.method, op.path) for op in OPERATIONS}


def is_api_route(pattern: str) -> bool:
    return not pattern.startswith(NOT_API_PREFIXES)
