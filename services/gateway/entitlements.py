"""Read side: a user's entitlements, straight from Postgres, and the features they grant."""

from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.features import user_feature_grants
from shared.db.entitlements import list_user_entitlements

routes = web.RouteTableDef()


@routes.get("/v1/users/{user_id}/entitlements")
async def get_user_entitlements(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    user_id = request.match_info["user_id"]
    async with ctx.sessions() as session:
        entitlements = await list_user_entitlements(session, user_id)
    # The union of the features of the user's active packs (children of bundles included).
    grants = await user_feature_grants(ctx, user_id)
    features = {name: {"pack_slug": g.pack_slug, "via_bundle": g.via_bundle} for name, g in grants.items()}
    return web.json_response(
        {
            "user_id": user_id,
            "entitlements": entitlements,
            "features": sorted(grants),
            "feature_grants": features,
        }
    )
