"""``/market/me``: the signed-in user's entitlements and the features they grant, with expiry dates."""

from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.features import user_feature_grants
from services.marketplace.pages import render, sign_in_redirect, signed_in
from shared.db.catalog_state import load_stored_catalog
from shared.db.entitlements import list_user_entitlements

routes = web.RouteTableDef()


@routes.get("/market/me", name="market-my-packs")
async def my_packs(request: web.Request) -> web.Response:
    session = await signed_in(request)
    if session is None:
        raise sign_in_redirect(request)
    gateway = request.app[GATEWAY]
    async with gateway.sessions() as db:
        entitlements = await list_user_entitlements(db, session.user_id)
        catalog = await load_stored_catalog(db)
    names = {slug: pack.row.display_name for slug, pack in catalog.items()}
    grants = await user_feature_grants(gateway, session.user_id)
    features = [
        {
            "name": name,
            "pack": names.get(grant.pack_slug, grant.pack_slug),
            "via_bundle": grant.via_bundle,
            "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        }
        for name, grant in sorted(grants.items())
    ]
    rows = [{**e, "pack_name": names.get(e["pack_slug"], e["pack_slug"])} for e in reversed(entitlements)]
    return await render(request, "my_packs.html", {"entitlements": rows, "features": features})
