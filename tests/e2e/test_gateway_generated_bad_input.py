"""Generated bad input (hypothesis) over every route of the gateway's router, against the live stack.

Path and query parameters, and JSON bodies mutated from a valid one (a string leaf, a key or a
value replaced by NUL, a lone surrogate escape, markup, a very long string or a wrong type).
Webhook bodies are signed after mutation, so only the gateway's own checks stand between them and
Kafka. Asserted for every example: no 5xx; every 4xx is JSON with ``error.code`` (LNURL routes
may answer LUD-06's ``{"status": "ERROR"}`` instead); a refused webhook never reached the raw topic.

Fixed profile (derandomized, bounded examples): CI runs the same examples every time.
URLs stay under aiohttp's 8 KiB request line, whose overrun the HTTP parser answers itself.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.packs import MicroSaasPack
from tests.conftest import Stack
from tests.e2e.test_security_bad_inputs import (
    ROUTES,
    alby_body,
    btcpay_body,
    error_code,
    revenuecat_body,
    standard_headers,
)
from tests.infra.lightning import btcpay_signature
from tests.infra.revenuecat import make_pack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(900)]

# The JSON API: the marketplace's pages answer people (HTML, forms) and have tests of their own.
API_ROUTES = [(m, p) for m, p in ROUTES if not p.startswith(("/market", "/paywall"))]
GENERATED = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BODY_ROUTES = [
    (m, p) for m, p in API_ROUTES if m in {"POST", "PUT", "PATCH"} and not p.endswith("/deactivate")
]
NASTY = [
    "\x00",
    "nul\x00inside",
    "\ud800",
    "trail\udfff",
    "pair\ud83d\ude00",
    "\ufeff\u202eevil",
    "\uffff",
    "' OR '1'='1",
    "<script>x</script>",
    "../../etc/passwd",
    "%00",
    "",
    " ",
    '"',
    "\\",
]
LONG = "x" * 70_000
nasty_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=20),
    st.tuples(st.text(max_size=10), st.sampled_from(["\x00", "\ud800", "\udc00"])).map("".join),
)
wrong_types = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["a", "\x00"]), st.integers(), max_size=2),
)
replacement = st.one_of(nasty_text, wrong_types, st.just(LONG))


@dataclass(frozen=True)
class Targets:
    """What valid requests point at, so mutations reach past the first lookup."""

    pack: MicroSaasPack
    put_pack: MicroSaasPack


@pytest.fixture(scope="module")
async def targets(stack: Stack) -> Targets:
    pack, _ = await make_pack(stack.sessions)
    put_pack, _ = await make_pack(stack.sessions)
    return Targets(pack, put_pack)


def valid_params(targets: Targets) -> dict[str, str]:
    return {
        "user_id": "gen-user",
        "slug": targets.pack.slug,
        "feature": "try_on.3d",
        "refundId": str(uuid.uuid4()),
        "sessionId": str(uuid.uuid4()),
        "purchaseReference": f"ref-{uuid.uuid4().hex[:12]}",
        "entitlement_id": str(uuid.uuid4()),
    }


def valid_body(method: str, pattern: str, targets: Targets) -> dict[str, Any]:
    marker = uuid.uuid4().hex[:12]
    if pattern == "/v1/checkout":
        return {"userId": "gen-user", "packSlug": targets.pack.slug, "provider": "revenuecat"}
    if pattern.startswith("/v1/admin/packs"):
        slug = targets.put_pack.slug if method == "PUT" else f"gen-{marker}"
        listing = {"product_id": f"rc.gen.{marker}", "price": 100, "currency": "USD"}
        return {"slug": slug, "display_name": "Generated", "price": 100, "providers": {"revenuecat": listing}}
    if pattern == "/v1/lightning/refunds":
        return {"purchaseReference": f"ref-{marker}", "reason": "generated"}
    if pattern == "/v1/admin/entitlements/{entitlement_id}/revoke":
        return {"reason": "generated"}
    if pattern.endswith("/tokens"):
        return {"ttlSeconds": 3600, "name": "generated"}
    if pattern == "/v1/webhooks/revenuecat":
        return json.loads(revenuecat_body(marker))  # type: ignore[no-any-return]
    return {}  # /v1/webhooks/lightning: chosen per example (BTCPay or Alby)


def paths_in(document: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place a value sits in a JSON document: dict keys and list indices, outermost first."""
    if not isinstance(document, dict | list):
        return
    children = document.items() if isinstance(document, dict) else enumerate(document)
    for key, value in children:
        yield (*prefix, key)
        yield from paths_in(value, (*prefix, key))


def mutate(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The document with one value replaced, one key renamed, or one field added (nasty each time)."""
    places = list(paths_in(document))
    action = data.draw(st.sampled_from(["replace", "rename", "add"] if places else ["add"]))
    if action == "add":
        document[data.draw(nasty_text)] = data.draw(replacement)
        return document
    path = data.draw(st.sampled_from(places))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "rename" and isinstance(parent, dict):
        parent[data.draw(nasty_text)] = parent.pop(last)
    else:
        parent[last] = data.draw(replacement)
    return document


def quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def fill(pattern: str, params: dict[str, str]) -> str:
    parts = [quoted(params[part[1:-1]]) if part.startswith("{") else part for part in pattern.split("/")]
    return "/".join(parts)


def signed_webhook(pattern: str, body: bytes, stack: Stack, alby: bool) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if pattern == "/v1/webhooks/revenuecat":
        return headers | {"Authorization": stack.settings.revenuecat.webhook_authorization.get_secret_value()}
    if alby:
        return standard_headers(
            stack.settings.alby.webhook_secret.get_secret_value(), body, datetime.now(UTC)
        )
    secret = stack.settings.btcpay.webhook_secret.get_secret_value()
    return headers | {"BTCPay-Sig": btcpay_signature(secret, body)}


async def assert_answered_on_our_terms(
    stack: Stack, pattern: str, response: httpx.Response, body: bytes | None
) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code < 400:
        return
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text[:300]
    lud06_error = pattern.startswith("/v1/lnurl/") and response.json().get("status") == "ERROR"
    assert lud06_error or error_code(response), response.text[:300]
    if body is not None and pattern.startswith("/v1/webhooks/"):
        await stack.published.caught_up()
        assert stack.published.on(stack.topics.webhooks_raw, lambda r: r.value == body) == []


@GENERATED
@given(route=st.sampled_from(API_ROUTES), data=st.data())
async def test_generated_path_and_query_parameters_never_fail_on_our_side(
    stack: Stack, api_key: str, targets: Targets, route: tuple[str, str], data: st.DataObject
) -> None:
    method, pattern = route
    params = valid_params(targets)
    for name in [part[1:-1] for part in pattern.split("/") if part.startswith("{")]:
        if data.draw(st.booleans()):
            params[name] = data.draw(nasty_text)
    query = data.draw(
        st.lists(
            st.tuples(st.sampled_from(["market", "provider", "amount"]) | nasty_text, nasty_text), max_size=3
        )
    )
    url = stack.gateway_url + fill(pattern, params)
    if query:
        url += "?" + "&".join(f"{quoted(k)}={quoted(v)}" for k, v in query)
    async with httpx.AsyncClient(headers={"X-API-Key": api_key}, timeout=30) as client:
        response = await client.request(method, url)
    await assert_answered_on_our_terms(stack, pattern, response, None)


@GENERATED
@given(route=st.sampled_from(BODY_ROUTES), alby=st.booleans(), data=st.data())
async def test_generated_json_bodies_never_fail_on_our_side(
    stack: Stack, api_key: str, targets: Targets, route: tuple[str, str], alby: bool, data: st.DataObject
) -> None:
    method, pattern = route
    document = valid_body(method, pattern, targets)
    if pattern == "/v1/webhooks/lightning":
        marker = uuid.uuid4().hex[:12]
        document = json.loads(alby_body(marker) if alby else btcpay_body(marker))
    body = json.dumps(mutate(document, data), ensure_ascii=True).encode()
    headers = signed_webhook(pattern, body, stack, alby) if pattern.startswith("/v1/webhooks/") else {}
    url = stack.gateway_url + fill(pattern, valid_params(targets))
    async with httpx.AsyncClient(headers={"X-API-Key": api_key}, timeout=30) as client:
        response = await client.request(
            method, url, content=body, headers={"Content-Type": "application/json"} | headers
        )
    await assert_answered_on_our_terms(stack, pattern, response, body)


# --- the cases the fuzz of issue 11 found, named -----------------------------------------------


async def _post_raw(
    stack: Stack, api_key: str, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    async with httpx.AsyncClient(headers={"X-API-Key": api_key}, timeout=30) as client:
        return await client.post(
            stack.gateway_url + path, content=body, headers={"Content-Type": "application/json"} | headers
        )


async def test_nul_in_the_checkout_pack_slug_is_a_400_naming_it(stack: Stack, api_key: str) -> None:
    body = json.dumps({"userId": "gen-user", "packSlug": "\x00", "provider": "revenuecat"}).encode()
    response = await _post_raw(stack, api_key, "/v1/checkout", body, {})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert response.json()["error"]["field"] == "packSlug"


@pytest.mark.parametrize("bad", ["evt-\\u0000", "evt-\\ud800"], ids=["NUL", "lone surrogate"])
async def test_a_signed_revenuecat_webhook_with_a_bad_event_id_is_refused_before_kafka(
    stack: Stack, api_key: str, bad: str
) -> None:
    body = revenuecat_body(uuid.uuid4().hex).replace(b'"id":"evt-', f'"id":"{bad}'.encode(), 1)
    response = await _post_raw(
        stack,
        api_key,
        "/v1/webhooks/revenuecat",
        body,
        signed_webhook("/v1/webhooks/revenuecat", body, stack, False),
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "NUL characters and lone surrogates are refused",
        "field": "event.id",
    }
    await stack.published.caught_up()
    assert stack.published.on(stack.topics.webhooks_raw, lambda r: r.value == body) == []


async def test_nul_in_a_query_parameter_is_a_400_naming_it(stack: Stack, api_key: str) -> None:
    async with httpx.AsyncClient(headers={"X-API-Key": api_key}, timeout=30) as client:
        response = await client.get(f"{stack.gateway_url}/v1/packs?market=%00")

    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (
        "invalid_input",
        "market",
    )
