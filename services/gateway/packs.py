"""``GET /v1/packs`` (active packs, filterable by provider, for a market and a user) and
``GET /v1/packs/{slug}`` (by slug or id), both as ``PackView``: the seed's ``MicroSaasPack`` plus
our fields. Availability is ``shared.catalog.gating.sale_decision``, the rule checkout obeys."""

from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.http_caching import cached_json
from services.gateway.limits import valid_user_id
from services.gateway.pack_views import pack_model
from shared.db.catalog_state import load_stored_catalog
from shared.domain.markets import market_code
from shared.domain.provider import Provider
from shared.http.errors import error_response

routes = web.RouteTableDef()


@routes.get("/v1/packs")
async def list_packs(request: web.Request) -> web.Response:
    """``?provider=`` keeps packs available there; ``?market=`` (ISO 3166-1 alpha-2) applies market
    gating, ``?user=`` the rollouts (without it, only a 100 % rollout counts as available)."""
    provider_name = request.query.get("provider")
    if provider_name is not None and provider_name not in {p.value for p in Provider}:
        choices = ", ".join(p.value for p in Provider)
        return error_response(400, "invalid_provider", f"provider must be one of {choices}", "provider")
    market = request.query.get("market")
    if market is not None and market_code(market) is None:
        return error_response(400, "invalid_market", "market must be an ISO 3166-1 alpha-2 code", "market")
    user_id = request.query.get("user")
    if user_id is not None and not valid_user_id(user_id):
        return error_response(400, "invalid_user_id", "user ids are 1-200 of A-Z a-z 0-9 . _ : @ + -", "user")
    async with request.app[GATEWAY].sessions() as session:
        catalog = await load_stored_catalog(session)
    views = [
        pack_model(pack, catalog, market_code(market) if market else None, user_id)
        for pack in catalog.values()
        if pack.row.is_active
    ]
    if provider_name is not None:
        views = [view for view in views if view.providers[provider_name].available]
    return cached_json(request, {"packs": [view.model_dump(mode="json") for view in views]})


@routes.get("/v1/packs/{slug}")
async def get_pack(request: web.Request) -> web.Response:
    """One pack, also when no longer sold (``active: false``): owners may still look it up.

    Named by slug or, as a seed client holding a ``MicroSaasPack.id`` would, by id.
    """
    slug = request.match_info["slug"]
    async with request.app[GATEWAY].sessions() as session:
        catalog = await load_stored_catalog(session)
    pack = catalog.get(slug) or next((p for p in catalog.values() if str(p.id) == slug.lower()), None)
    if pack is None:
        return error_response(404, "pack_not_found", f"no pack {slug!r}", "slug")
    market = market_code(request.query.get("market", ""))
    user_id = request.query.get("user")
    view = pack_model(pack, catalog, market, user_id if user_id and valid_user_id(user_id) else None)
    return cached_json(request, view.model_dump(mode="json"))
