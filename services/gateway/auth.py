"""API authentication: key → scopes per route, 401 without a valid key, 403 with the wrong scope.

Keys come in ``X-API-Key`` or ``Authorization: Bearer``. A user token may read only its own user's
entitlements. Each key is rate limited in Redis (429 + ``Retry-After``). The catalog's bootstrap
admin key (secret ``admin_api_key``) is accepted as an ``admin`` principal.
"""

import uuid
from typing import Any

import structlog
from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.route_policy import policy_for
from services.gateway.security_context import SECURITY
from shared.http.errors import error_response
from shared.security.api_keys import KEY_PREFIX, Principal, Scope, authenticate

log = structlog.get_logger(__name__)
PRINCIPAL = "security.principal"
BOOTSTRAP_ADMIN_ID = uuid.UUID(int=0)


def route_pattern(request: web.Request) -> str | None:
    """The matched route's pattern (``/v1/users/{user_id}/entitlements``), None when none matched."""
    if request.match_info.http_exception is not None:
        return None
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def presented_key(request: web.Request) -> str | None:
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return None


async def principal_for_key(request: web.Request, presented: str) -> Principal | None:
    """The key's principal; the bootstrap admin key is checked here only, via the secret provider
    (current value, or the previous one inside its rotation window)."""
    if presented.startswith(KEY_PREFIX):
        async with request.app[GATEWAY].sessions() as session:
            return await authenticate(session, presented)
    secrets = request.app[SECURITY].secrets
    if await secrets.is_configured("admin_api_key") and await secrets.verify(
        "admin_api_key", lambda value: value.equals(presented)
    ):
        return Principal(BOOTSTRAP_ADMIN_ID, "bootstrap admin key", frozenset({Scope.ADMIN}), None, None)
    return None


@web.middleware
async def authenticate_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    pattern = route_pattern(request)
    if pattern is None:  # 404/405: nothing to protect; aiohttp answers
        response: web.StreamResponse = await handler(request)
        return response
    policy = policy_for(request.method, pattern)
    if policy.exempt:
        return await handler(request)  # type: ignore[no-any-return]
    presented = presented_key(request)
    principal = await principal_for_key(request, presented) if presented else None
    if principal is None:
        log.info("api_unauthenticated", path=pattern, key_presented=presented is not None)
        return error_response(401, "unauthorized", "a valid API key is required", "X-API-Key")
    if policy.scope not in principal.scopes:
        log.info("api_forbidden", path=pattern, key_id=str(principal.key_id), needs=policy.scope.value)
        return error_response(403, "forbidden", f"this key lacks the {policy.scope.value} scope")
    owner = request.match_info.get("user_id")
    if principal.user_id is not None and not policy.owner_checked_by_handler and owner != principal.user_id:
        return error_response(403, "forbidden", "a user token reads only its own user", "user_id")
    limited = await _rate_limited(request, principal)
    if limited is not None:
        return limited
    request[PRINCIPAL] = principal
    return await handler(request)  # type: ignore[no-any-return]


async def _rate_limited(request: web.Request, principal: Principal) -> web.Response | None:
    security = request.app[SECURITY]
    limit = principal.rate_limit_per_minute or security.settings.api_rate_limit_per_minute
    decision = await security.rate_limiter.hit(str(principal.key_id), limit)
    if decision.allowed:
        return None
    response = error_response(429, "rate_limited", f"more than {limit} requests per minute for this key")
    response.headers["Retry-After"] = str(decision.retry_after_s)
    return response


def principal_of(request: web.Request) -> Principal | None:
    principal: Principal | None = request.get(PRINCIPAL)
    return principal


def caller_key_id(request: web.Request) -> uuid.UUID:
    """The calling API key's id, on a route behind ``authenticate_requests`` (else 401)."""
    principal = principal_of(request)
    if principal is None:
        raise web.HTTPUnauthorized(reason="a valid API key is required")
    return principal.key_id
