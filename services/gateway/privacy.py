"""GDPR endpoints (scope ``admin``): export everything held on a user; erase a user; mint a user token.

``GET /v1/users/{user_id}/export`` → JSON of every row naming the user, plus their audit trail.
``DELETE /v1/users/{user_id}`` → erasure (docs/security.md: what is deleted, what is pseudonymised).
``POST /v1/users/{user_id}/tokens`` → a token that reads only this user's entitlements.
"""

from datetime import timedelta

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.gateway.auth import principal_of
from services.gateway.context import GATEWAY
from shared.connectors.registry import personal_data_map
from shared.db.audit_log import append_audit
from shared.db.unit_of_work import unit_of_work
from shared.domain.audit import AuditEntry, user_subject
from shared.http.errors import validation_error_response
from shared.security.api_keys import Scope, create_api_key
from shared.security.privacy import erase_user, export_user

routes = web.RouteTableDef()
MAX_USER_TOKEN_TTL_S = 30 * 86400


class UserTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttl_seconds: int = Field(default=3600, ge=60, le=MAX_USER_TOKEN_TTL_S, alias="ttlSeconds")
    name: str = Field(default="user token", min_length=1, max_length=200)


def _actor(request: web.Request) -> str:
    principal = principal_of(request)
    return principal.actor if principal else "anonymous"


@routes.get("/v1/users/{user_id}/export")
async def export_user_data(request: web.Request) -> web.Response:
    user_id = request.match_info["user_id"]
    async with unit_of_work(request.app[GATEWAY].sessions) as session:
        exported = await export_user(session, personal_data_map(), user_id)
        await append_audit(
            session, AuditEntry(actor=_actor(request), event="user.exported", subject=user_subject(user_id))
        )
    return web.json_response(exported, dumps=lambda v: orjson.dumps(v, default=str).decode())


@routes.delete("/v1/users/{user_id}")
async def erase_user_data(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    user_id = request.match_info["user_id"]
    async with unit_of_work(ctx.sessions) as session:
        erased = await erase_user(session, personal_data_map(), user_id, requested_by=_actor(request))
    # Cached feature grants are derived from the rows just pseudonymised.
    await ctx.feature_cache.invalidate_users([user_id])
    return web.json_response({"status": "erased", "counts": erased["counts"]})


@routes.post("/v1/users/{user_id}/tokens")
async def create_user_token(request: web.Request) -> web.Response:
    user_id = request.match_info["user_id"]
    body = await request.read()
    try:
        wanted = UserTokenRequest.model_validate_json(body or b"{}")
    except ValidationError as exc:
        return validation_error_response(exc, "invalid_token_request")
    async with unit_of_work(request.app[GATEWAY].sessions) as session:
        issued = await create_api_key(
            session,
            name=wanted.name,
            scopes=frozenset({Scope.ENTITLEMENTS_READ}),
            created_by=_actor(request),
            user_id=user_id,
            ttl=timedelta(seconds=wanted.ttl_seconds),
        )
    return web.json_response(
        {
            "token": issued.key.reveal(),
            "tokenId": str(issued.id),
            "userId": user_id,
            "scopes": [Scope.ENTITLEMENTS_READ.value],
            "expiresAt": issued.expires_at.isoformat() if issued.expires_at else None,
        },
        status=201,
    )
