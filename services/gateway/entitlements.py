"""Read side: a user's entitlements, straight from Postgres."""

from aiohttp import web

from services.gateway.context import GATEWAY
from shared.db.entitlements import list_user_entitlements

routes = web.RouteTableDef()


@routes.get("/v1/users/{user_id}/entitlements")
async def get_user_entitlements(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    user_id = request.match_info["user_id"]
    async with ctx.sessions() as session:
        entitlements = await list_user_entitlements(session, user_id)
    return web.json_response({"user_id": user_id, "entitlements": entitlements})
