"""Feature gating: ``GET /v1/users/{id}/features/{feature}`` answers allow or deny, and why.

Grants come from the Redis feature cache (``shared/entitlement_cache.py``), which the outbox relay
invalidates before any entitlement event is published, so an answer is never older than an event.
With ``?at=``/``?known_at=`` the answer as of a past time comes from the entitlement history instead,
never from that cache (it holds the current state only).
"""

from datetime import UTC, datetime

from aiohttp import web

from services.gateway.as_of import InvalidTime, requested_as_of
from services.gateway.context import GATEWAY, GatewayContext
from shared.catalog.grants import FeatureGrant, current_grants
from shared.db.entitlement_history import AsOf, feature_grants_as_of
from shared.db.feature_grants import load_feature_grants
from shared.http.errors import error_response

routes = web.RouteTableDef()


async def user_feature_grants(ctx: GatewayContext, user_id: str) -> dict[str, FeatureGrant]:
    """The features the user has now, each with the grant that lasts longest."""

    async def load() -> list[FeatureGrant]:
        async with ctx.sessions() as session:
            return await load_feature_grants(session, user_id)

    return current_grants(await ctx.feature_cache.grants(user_id, load), datetime.now(UTC))


async def user_feature_grants_as_of(
    ctx: GatewayContext, user_id: str, as_of: AsOf
) -> dict[str, FeatureGrant]:
    """The features the user had at ``as_of.at``, read from the history."""
    async with ctx.sessions() as session:
        grants = await feature_grants_as_of(session, user_id, as_of)
    return current_grants(grants, as_of.at)


@routes.get("/v1/users/{user_id}/features/{feature}")
async def check_feature(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    user_id, feature = request.match_info["user_id"], request.match_info["feature"]
    try:
        as_of = requested_as_of(request.query)
    except InvalidTime as exc:
        return error_response(400, "invalid_time", str(exc), exc.field)
    if as_of is None:
        grants = await user_feature_grants(ctx, user_id)
    else:
        grants = await user_feature_grants_as_of(ctx, user_id, as_of)
    grant = grants.get(feature)
    granted_by = None
    if grant is not None:
        granted_by = {
            "pack_slug": grant.pack_slug,
            "via_bundle": grant.via_bundle,
            "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        }
    return web.json_response(
        {"user_id": user_id, "feature": feature, "allowed": grant is not None, "granted_by": granted_by},
        headers={"Cache-Control": "no-store"},
    )
