"""``GET /v1/receipts/{purchaseReference}``: the Lightning receipts of one purchase, each a document
the payer can verify offline (``billing receipt verify``). A user token sees only its own user's
receipts; another user's purchase answers 404, as an unknown one does, so existence does not leak."""

from aiohttp import web

from services.gateway.auth import principal_of
from services.gateway.context import GATEWAY
from shared.connectors.lightning.receipts import receipt_json, receipts_for
from shared.http.errors import error_response

routes = web.RouteTableDef()


@routes.get("/v1/receipts/{purchaseReference}")
async def get_receipts(request: web.Request) -> web.Response:
    reference = request.match_info["purchaseReference"]
    principal = principal_of(request)
    owner = principal.user_id if principal is not None else None
    async with request.app[GATEWAY].sessions() as session:
        found = await receipts_for(session, reference, user_id=owner)
    if not found:
        return error_response(404, "receipt_not_found", "no receipt for this purchase", "purchaseReference")
    return web.json_response({"purchaseReference": reference, "receipts": [receipt_json(r) for r in found]})
