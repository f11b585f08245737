"""Bad input against every gateway endpoint gets its documented 4xx and leaves no trace.

Two tables: generic cases derived from the live router (no key → 401, a key without the route's
scope → 403, oversize → 413, wrong content type → 415 on every POST/PUT/PATCH), and specific ones
(forged/expired signatures, invalid JSON, markup/SQL in free text, unknown fields). Every request
carries a unique marker; afterwards no table and no topic holds it. Webhook rejections leave
exactly their audit row.
"""

import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from apps.gateway_process import build_gateway_process
from services.gateway.limits import FORM_PREFIXES
from services.gateway.route_policy import policy_for
from shared.connectors.registry import REGISTERED_PROVIDERS
from shared.security.api_keys import ALL_SCOPES, Scope
from shared.security.secret_values import SecretValue
from shared.security.webhook_signing import sign_body
from shared.settings import Settings
from tests.conftest import Stack
from tests.infra.security import audit_head_seq, audit_rows_after, create_key, tables_containing

BODY_METHODS = {"POST", "PUT", "PATCH"}


def live_routes() -> list[tuple[str, str]]:
    """Every route the gateway serves; the one webhook route once per registered provider."""
    app = build_gateway_process(Settings())
    patterns = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method not in {"HEAD", "*"}
    }
    webhook = ("POST", "/v1/webhooks/{provider}")
    if webhook in patterns:
        patterns.remove(webhook)
        patterns |= {("POST", f"/v1/webhooks/{p.provider.value}") for p in REGISTERED_PROVIDERS}
    return sorted(patterns)


ROUTES = live_routes()
PROTECTED = [(m, p) for m, p in ROUTES if not policy_for(m, p).exempt]
WITH_BODY = [(m, p) for m, p in ROUTES if m in BODY_METHODS]
# The marketplace's pages post HTML forms; every other body must be JSON.
JSON_ONLY = [(m, p) for m, p in WITH_BODY if not p.startswith(FORM_PREFIXES)]


def new_marker() -> str:
    return f"mk{uuid.uuid4().hex[:16]}"


def fill(pattern: str, marker: str) -> str:
    """Every {param} of a route pattern becomes the marker (a valid user id, slug or path part)."""
    parts = [marker if part.startswith("{") else part for part in pattern.split("/")]
    return "/".join(parts)


@dataclass
class Keys:
    by_scope: dict[Scope, str] = field(default_factory=dict)
    full: str = ""

    def without(self, scope: Scope) -> str:
        """A key holding some scope other than ``scope``."""
        other = next(s for s in sorted(ALL_SCOPES) if s is not scope)
        return self.by_scope[other]


@pytest.fixture(scope="module")
async def keys(stack: Stack, api_key: str) -> Keys:
    found = Keys(full=api_key)
    for scope in Scope:
        found.by_scope[scope] = (await create_key(stack.sessions, frozenset({scope}))).key.reveal()
    return found


async def assert_no_trace(stack: Stack, marker: str) -> None:
    await stack.published.caught_up()
    on_topics = [r.topic for r in stack.published.records if marker.encode() in r.value + (r.key or b"")]
    assert on_topics == []
    assert await tables_containing(stack.sessions, marker) == {}


def error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


# --- generic: every route the gateway serves -------------------------------------------------


@pytest.mark.parametrize(("method", "pattern"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_protected_route_without_a_key_is_401(stack: Stack, method: str, pattern: str) -> None:
    marker = new_marker()
    async with httpx.AsyncClient(base_url=stack.gateway_url) as anonymous:
        response = await anonymous.request(method, fill(pattern, marker), json={"note": marker})
    assert (response.status_code, error_code(response)) == (401, "unauthorized")
    await assert_no_trace(stack, marker)


@pytest.mark.parametrize(("method", "pattern"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_protected_route_with_a_key_lacking_its_scope_is_403(
    stack: Stack, keys: Keys, method: str, pattern: str
) -> None:
    marker = new_marker()
    key = keys.without(policy_for(method, pattern).scope)
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers={"X-API-Key": key}) as client:
        response = await client.request(method, fill(pattern, marker), json={"note": marker})
    assert (response.status_code, error_code(response)) == (403, "forbidden")
    await assert_no_trace(stack, marker)


@pytest.mark.parametrize(("method", "pattern"), WITH_BODY, ids=[f"{m} {p}" for m, p in WITH_BODY])
async def test_oversize_body_is_413(stack: Stack, keys: Keys, method: str, pattern: str) -> None:
    marker = new_marker()
    body = (
        b'{"note":"' + marker.encode() + b'","pad":"' + b"x" * stack.settings.max_request_body_bytes + b'"}'
    )
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers={"X-API-Key": keys.full}) as client:
        response = await client.request(
            method, fill(pattern, marker), content=body, headers={"Content-Type": "application/json"}
        )
    assert (response.status_code, error_code(response)) == (413, "payload_too_large")
    await assert_no_trace(stack, marker)


@pytest.mark.parametrize(("method", "pattern"), JSON_ONLY, ids=[f"{m} {p}" for m, p in JSON_ONLY])
async def test_non_json_content_type_is_415(stack: Stack, keys: Keys, method: str, pattern: str) -> None:
    marker = new_marker()
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers={"X-API-Key": keys.full}) as client:
        response = await client.request(
            method,
            fill(pattern, marker),
            content=f"note={marker}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert (response.status_code, error_code(response)) == (415, "unsupported_media_type")
    await assert_no_trace(stack, marker)


# --- specific: signatures, JSON, free text, unknown fields -----------------------------------


@dataclass(frozen=True)
class BadInput:
    name: str
    status: int
    code: str | None
    # (stack, marker) -> (method, path, headers, body); headers without X-API-Key = anonymous
    build: Callable[[Stack, str], tuple[str, str, dict[str, str], bytes]]
    use_full_key: bool = True


def revenuecat_body(marker: str) -> bytes:
    now_ms = int(time.time() * 1000)
    event = {
        "id": f"evt-{marker}",
        "type": "INITIAL_PURCHASE",
        "event_timestamp_ms": now_ms,
        "app_user_id": f"rc_{marker}",
        "product_id": "com.hometryon.unknown",
        "purchased_at_ms": now_ms,
        "expiration_at_ms": now_ms + 86_400_000,
    }
    return orjson.dumps({"api_version": "1.0", "event": event})


def btcpay_body(marker: str) -> bytes:
    return orjson.dumps(
        {
            "deliveryId": f"dlv-{marker}",
            "webhookId": "wh-1",
            "type": "InvoiceSettled",
            "timestamp": int(time.time()),
            "storeId": "store-test",
            "invoiceId": f"inv-{marker}",
            "metadata": {"orderId": marker},
        }
    )


def alby_body(marker: str) -> bytes:
    return orjson.dumps({"payment_hash": hashlib.sha256(marker.encode()).hexdigest(), "memo": marker})


JSON = {"Content-Type": "application/json"}


def rc_auth(stack: Stack) -> dict[str, str]:
    return JSON | {"Authorization": stack.settings.revenuecat.webhook_authorization.get_secret_value()}


def standard_headers(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    return JSON | sign_body(SecretValue(secret), body, message_id=f"msg_{uuid.uuid4().hex}", at=at).as_dict()


BAD_INPUTS = [
    BadInput(
        "revenuecat: missing Authorization",
        401,
        "unauthorized",
        lambda s, m: ("POST", "/v1/webhooks/revenuecat", JSON, revenuecat_body(m)),
    ),
    BadInput(
        "revenuecat: forged Authorization",
        401,
        "unauthorized",
        lambda s, m: (
            "POST",
            "/v1/webhooks/revenuecat",
            JSON | {"Authorization": f"Bearer forged-{m}"},
            revenuecat_body(m),
        ),
    ),
    BadInput(
        "revenuecat: invalid JSON",
        400,
        "invalid_webhook",
        lambda s, m: (
            "POST",
            "/v1/webhooks/revenuecat",
            rc_auth(s),
            b'{"api_version": "1.0", "event": {"id": "' + m.encode(),
        ),
    ),
    BadInput(
        "revenuecat: markup instead of an envelope",
        400,
        "invalid_webhook",
        lambda s, m: (
            "POST",
            "/v1/webhooks/revenuecat",
            rc_auth(s),
            orjson.dumps({"html": f"<script>{m}</script>"}),
        ),
    ),
    BadInput(
        "lightning: no signature at all",
        401,
        "unauthorized",
        lambda s, m: ("POST", "/v1/webhooks/lightning", JSON, btcpay_body(m)),
    ),
    BadInput(
        "lightning: forged BTCPay-Sig",
        401,
        "unauthorized",
        lambda s, m: (
            "POST",
            "/v1/webhooks/lightning",
            JSON | {"BTCPay-Sig": "sha256=" + hmac.new(b"guess", btcpay_body(m), hashlib.sha256).hexdigest()},
            btcpay_body(m),
        ),
    ),
    BadInput(
        "lightning: Standard Webhooks signature with an unknown key",
        401,
        "unauthorized",
        lambda s, m: (
            "POST",
            "/v1/webhooks/lightning",
            standard_headers("whsec_" + "Z3Vlc3NlZC1rZXktZ3Vlc3NlZC1rZXk=", alby_body(m), datetime.now(UTC)),
            alby_body(m),
        ),
    ),
    BadInput(
        "lightning: Standard Webhooks signature expired (301 s old)",
        401,
        "unauthorized",
        lambda s, m: (
            "POST",
            "/v1/webhooks/lightning",
            standard_headers(
                s.settings.alby.webhook_secret.get_secret_value(),
                alby_body(m),
                datetime.now(UTC) - timedelta(seconds=301),
            ),
            alby_body(m),
        ),
    ),
    BadInput(
        "lightning: Standard Webhooks signature from the future (360 s ahead)",
        401,
        "unauthorized",
        lambda s, m: (
            "POST",
            "/v1/webhooks/lightning",
            standard_headers(
                s.settings.alby.webhook_secret.get_secret_value(),
                alby_body(m),
                # Well past the 300 s tolerance: the request reaches the gateway a moment later.
                datetime.now(UTC) + timedelta(seconds=360),
            ),
            alby_body(m),
        ),
    ),
    BadInput(
        "checkout: invalid JSON",
        400,
        "invalid_checkout",
        lambda s, m: ("POST", "/v1/checkout", JSON, b'{"userId": "' + m.encode() + b'", '),
    ),
    BadInput(
        "checkout: unknown field",
        400,
        "unknown_field",
        lambda s, m: (
            "POST",
            "/v1/checkout",
            JSON,
            orjson.dumps({"userId": m, "packSlug": "x", "provider": "revenuecat", "isAdmin": True}),
        ),
    ),
    BadInput(
        "checkout: markup in userId",
        400,
        "invalid_user_id",
        lambda s, m: (
            "POST",
            "/v1/checkout",
            JSON,
            orjson.dumps(
                {"userId": f"<img src=x onerror=alert('{m}')>", "packSlug": "x", "provider": "revenuecat"}
            ),
        ),
    ),
    BadInput(
        "checkout: SQL in userId",
        400,
        "invalid_user_id",
        lambda s, m: (
            "POST",
            "/v1/checkout",
            JSON,
            orjson.dumps(
                {
                    "userId": f"{m}'; DROP TABLE user_entitlements; --",
                    "packSlug": "x",
                    "provider": "revenuecat",
                }
            ),
        ),
    ),
    BadInput(
        "checkout: SQL in packSlug finds no pack",
        404,
        "pack_not_found",
        lambda s, m: (
            "POST",
            "/v1/checkout",
            JSON,
            orjson.dumps({"userId": m, "packSlug": "x' OR '1'='1", "provider": "revenuecat"}),
        ),
    ),
    BadInput(
        "entitlements: SQL in the user id",
        400,
        "invalid_user_id",
        lambda s, m: ("GET", f"/v1/users/{m}'%20OR%20'1'='1/entitlements", {}, b""),
    ),
    BadInput(
        "entitlements: markup in the user id",
        400,
        "invalid_user_id",
        lambda s, m: ("GET", f"/v1/users/%3Cscript%3E{m}%3C%2Fscript%3E/entitlements", {}, b""),
    ),
    BadInput(
        "user token request: unknown field",
        400,
        "invalid_token_request",
        lambda s, m: ("POST", f"/v1/users/{m}/tokens", JSON, orjson.dumps({"scopes": ["admin"]})),
    ),
]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[b.name for b in BAD_INPUTS])
async def test_bad_input_gets_its_4xx_and_leaves_no_trace(stack: Stack, keys: Keys, bad: BadInput) -> None:
    marker = new_marker()
    method, path, headers, body = bad.build(stack, marker)
    head = await audit_head_seq(stack.sessions)
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers={"X-API-Key": keys.full}) as client:
        response = await client.request(method, path, headers=headers, content=body or None)
    assert (response.status_code, error_code(response)) == (bad.status, bad.code)
    await assert_no_trace(stack, marker)
    if path.startswith("/v1/webhooks/"):
        request_id = response.headers["X-Request-Id"]
        rows = await audit_rows_after(stack.sessions, head, "webhook.rejected")
        assert [r["details"]["status"] for r in rows if r["details"]["request_id"] == request_id] == [
            bad.status
        ]


async def test_chunked_body_growing_past_the_limit_is_413(stack: Stack) -> None:
    marker = new_marker()
    chunk = b"x" * 65536

    async def body() -> AsyncIterator[bytes]:
        yield b'{"note":"' + marker.encode() + b'","pad":"'
        for _ in range(stack.settings.max_request_body_bytes // len(chunk) + 1):
            yield chunk
        yield b'"}'

    async with httpx.AsyncClient(base_url=stack.gateway_url) as client:
        response = await client.post("/v1/webhooks/revenuecat", content=body(), headers=rc_auth(stack))
    assert (response.status_code, error_code(response)) == (413, "payload_too_large")
    await assert_no_trace(stack, marker)
