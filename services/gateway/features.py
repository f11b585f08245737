"""Feature gating: ``GET /v1/users/{id}/features/{feature}`` answers allow or deny, and why.

Grants come from the Redis feature cache (``shared/entitlement_cache.py``), which the outbox relay
invalidates before any entitlement event is published, so an answer is never older than an event.
"""

from datetime import UTC, datetime

from aiohttp import web

from services.gateway.context import GATEWAY, GatewayContext
from shared.catalog.grants import FeatureGrant, current_grants
from shared.db.feature_grants import load_feature_grants

routes = web.RouteTableDef()


async def user_feature_grants(ctx: GatewayContext, user_id: str) -> dict[str, FeatureGrant]:
    """The features the user has now, each with the grant that lasts longest."""

    async def load() -> list[FeatureGrant]:
        async with ctx.sessions() as session:
            return await load_feature_grants(session, user_id)

    return current_grants(await ctx.feature_cache.grants(user_id, load), datetime.now(UTC))


@routes.get("/v1/users/{user_id}/features/{feature}")
async def check_feature(request: web.Request) -> web.Response:
    user_id, feature = request.match_info["user_id"], request.match_info["feature"]
    grant = (await user_feature_grants(request.app[GATEWAY], user_id)).get(feature)
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
