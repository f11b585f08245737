"""``/market/``: every active pack for the visitor's market, and one pack's page with its buy buttons."""

import uuid

from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.pack_views import pack_view
from services.marketplace.context import MARKETPLACE
from services.marketplace.pack_cards import active_views, btc_rates, card
from services.marketplace.pages import error_page, render, signed_in, visitor_market
from shared.db.catalog_state import load_stored_catalog
from shared.messaging.telemetry import TelemetryType

routes = web.RouteTableDef()


@routes.get("/market/", name="market-catalog")
async def catalog_page(request: web.Request) -> web.Response:
    market = visitor_market(request)
    async with request.app[GATEWAY].sessions() as session:
        catalog = await load_stored_catalog(session)
    views = active_views(catalog, market)
    rates = await btc_rates(request.app[MARKETPLACE].oracle, views)
    cards = [card(view, catalog, rates) for view in views]
    return await render(request, "catalog.html", {"packs": cards, "market": market})


@routes.get("/market/packs/{slug}", name="market-pack")
async def pack_page(request: web.Request) -> web.Response:
    market = visitor_market(request)
    async with request.app[GATEWAY].sessions() as db:
        catalog = await load_stored_catalog(db)
    pack = catalog.get(request.match_info["slug"])
    if pack is None or not pack.row.is_active:
        return await error_page(request, 404, "No such pack", "This pack is not sold (any more).")
    session = await signed_in(request)
    request.app[GATEWAY].telemetry.emit(
        TelemetryType.PACK_VIEWED,
        {"pack": pack.row.slug, "market": market},
        user_id=session.user_id if session else None,
    )
    view = pack_view(pack, catalog, market, session.user_id if session else None)  # its rollouts
    rates = await btc_rates(request.app[MARKETPLACE].oracle, [view])
    # A fresh key per rendering: each click of a button on this page is one checkout, however often sent.
    click = uuid.uuid4().hex
    token = (
        await request.app[MARKETPLACE].signer.form_token(session.user_id, pack.row.slug, click)
        if session
        else None
    )
    return await render(
        request,
        "pack.html",
        {"pack": card(view, catalog, rates), "market": market, "click": click, "form_token": token},
    )
