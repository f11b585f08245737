"""Read side: a user's entitlements, straight from Postgres, and the features they grant.

With ``?at=`` (or ``?known_at=``, ``services/gateway/as_of.py``) the same answer as of a past time,
read from the entitlement history.
"""

from typing import Any

from aiohttp import web

from services.gateway.as_of import InvalidTime, requested_as_of
from services.gateway.context import GATEWAY
from services.gateway.features import user_feature_grants, user_feature_grants_as_of
from shared.db.entitlement_history import user_entitlements_as_of
from shared.db.entitlements import list_user_entitlements
from shared.http.errors import error_response

routes = web.RouteTableDef()


@routes.get("/v1/users/{user_id}/entitlements")
async def get_user_entitlements(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    user_id = request.match_info["user_id"]
    try:
        as_of = requested_as_of(request.query)
    except InvalidTime as exc:
        return error_response(400, "invalid_time", str(exc), exc.field)
    entitlements: list[dict[str, Any]]
    if as_of is None:
        async with ctx.sessions() as session:
            entitlements = await list_user_entitlements(session, user_id)
        grants = await user_feature_grants(ctx, user_id)
    else:
        async with ctx.sessions() as session:
            entitlements = await user_entitlements_as_of(session, user_id, as_of)
        grants = await user_feature_grants_as_of(ctx, user_id, as_of)
    # The union of the features of the user's active packs (children of bundles included).
    features = {name: {"pack_slug": g.pack_slug, "via_bundle": g.via_bundle} for name, g in grants.items()}
    return web.json_response(
        {
            "user_id": user_id,
            "entitlements": entitlements,
            "features": sorted(grants),
            "feature_grants": features,
        }
    )
