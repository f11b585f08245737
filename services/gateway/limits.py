"""Request limits: text no store can hold (NUL, lone surrogates) in any path or query parameter
or JSON body (400 ``invalid_input`` naming the field); user ids' format; on every POST/PUT/PATCH
body size (413) and content type (415).

Client-facing JSON bodies registered in ``STRICT_BODIES`` also refuse unknown fields (400), while
provider webhooks keep accepting them (RevenueCat adds fields without notice).
"""

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from services.gateway.auth import route_pattern
from services.gateway.security_context import SECURITY
from services.gateway.unsafe_text import is_unsafe, parsed_json, unsafe_field
from shared.domain.checkout import CheckoutInput
from shared.http.errors import error_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Our user ids: what platforms use (uuids, slugs, e-mail-like ids), nothing that is markup or SQL.
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,199}")
STRICT_BODIES: dict[tuple[str, str], type[BaseModel]] = {("POST", "/v1/checkout"): CheckoutInput}
# The marketplace's pages post HTML forms (services/marketplace/).
FORM_PREFIXES = ("/market/", "/paywall")


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def valid_user_id(value: object) -> bool:
    return isinstance(value, str) and USER_ID.fullmatch(value) is not None


def _unsafe_parameter(request: web.Request) -> str | None:
    for name, value in request.match_info.items():
        if is_unsafe(value):
            return name
    for name, value in request.query.items():
        if is_unsafe(name):
            return "query"
        if is_unsafe(value):
            return name
    return None


def _unsafe_input(field: str) -> web.Response:
    return error_response(400, "invalid_input", "NUL characters and lone surrogates are refused", field)


@web.middleware
async def enforce_request_limits(request: web.Request, handler: Any) -> web.StreamResponse:
    unsafe = _unsafe_parameter(request)
    if unsafe is not None:
        return _unsafe_input(unsafe)
    user_id = request.match_info.get("user_id")
    if user_id is not None and not valid_user_id(user_id):
        return error_response(
            400, "invalid_user_id", "user ids are 1-200 of A-Z a-z 0-9 . _ : @ + -", "user_id"
        )
    if request.method not in BODY_METHODS:
        return await handler(request)  # type: ignore[no-any-return]
    max_bytes = request.app[SECURITY].settings.max_request_body_bytes
    length = request.content_length
    if length is not None and length > max_bytes:
        return error_response(413, "payload_too_large", f"request bodies are limited to {max_bytes} bytes")
    has_body = (length or 0) > 0 or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
    is_form = request.content_type == "application/x-www-form-urlencoded" and request.path.startswith(
        FORM_PREFIXES
    )
    if has_body and not (_is_json(request.content_type) or is_form):
        return error_response(415, "unsupported_media_type", "send application/json", "Content-Type")
    # Read here, under the limit, so a chunked body that outgrows it gets the same 413; handlers
    # then read the cached bytes.
    request = request.clone(client_max_size=max_bytes)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "payload_too_large", f"request bodies are limited to {max_bytes} bytes")
    is_json, document = parsed_json(body) if body else (False, None)
    if not is_json:  # the handler answers invalid JSON in its own terms
        return await handler(request)  # type: ignore[no-any-return]
    unsafe = unsafe_field(document)
    if unsafe is not None:
        return _unsafe_input(unsafe)
    pattern = route_pattern(request)
    strict = STRICT_BODIES.get((request.method, pattern)) if pattern else None
    if strict is not None:
        refused = _strict_body_problem(document, strict)
        if refused is not None:
            return refused
    return await handler(request)  # type: ignore[no-any-return]


def _strict_body_problem(document: object, model: type[BaseModel]) -> web.Response | None:
    """400 for an unknown top-level field or a malformed user id; None lets the handler validate."""
    if not isinstance(document, dict):
        return None
    known = set(model.model_fields)
    known |= {f.alias for f in model.model_fields.values() if f.alias}
    unknown = sorted(set(document) - known)
    if unknown:
        return error_response(400, "unknown_field", f"unknown field {unknown[0]!r}", unknown[0])
    for name in ("userId", "user_id"):
        if name in document and not valid_user_id(document[name]):
            return error_response(
                400, "invalid_user_id", "user ids are 1-200 of A-Z a-z 0-9 . _ : @ + -", name
            )
    return None
