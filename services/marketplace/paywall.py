"""``/paywall``: our hosted RevenueCat paywall, the checkout URL of packs without a Web Purchase Link.

RevenueCat checkout hands out ``<revenuecat_hosted_paywall_url>?pack=<slug>&app_user_id=rc_<user>``.
The page shows the pack's offering and price. With the RevenueCat sandbox configured (``make run``,
tests) its button completes the purchase there, and the sandbox sends the webhook as the store would;
without it (production) the page sends the buyer to the app store.
"""

import uuid

import orjson
import structlog
from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.idempotency import StoredAnswer
from services.gateway.limits import valid_user_id
from services.gateway.pack_views import pack_view
from services.marketplace.clicks import answer_once
from services.marketplace.context import MARKETPLACE
from services.marketplace.money import native_text
from services.marketplace.pack_cards import card
from services.marketplace.pages import error_page, render, visitor_market
from shared.connectors.revenuecat.users import APP_USER_ID_PREFIX
from shared.db.catalog_state import load_stored_catalog
from shared.domain.errors import ProviderError

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


async def _offering(request: web.Request, slug: str) -> dict[str, object] | None:
    """The pack as RevenueCat sells it to this visitor, or None when it is not sold there."""
    async with request.app[GATEWAY].sessions() as session:
        catalog = await load_stored_catalog(session)
    pack = catalog.get(slug)
    if pack is None:
        return None
    view = pack_view(pack, catalog, visitor_market(request))
    listing = view["providers"]["revenuecat"]
    if not listing["available"]:
        return None
    return {
        "pack": card(view, catalog, {}),
        "product_id": listing["product_id"],
        "price": native_text(listing["price"]["amount"], listing["price"]["currency"]),
        "subscription": view["billing"]["kind"] == "subscription",
        "period": view["billing"]["period"],
    }


def _buyer(value: str) -> str | None:
    """The link's app user id when it is one of ours (``rc_<user id>``), else None."""
    user_id = value.removeprefix(APP_USER_ID_PREFIX)
    return value if value.startswith(APP_USER_ID_PREFIX) and valid_user_id(user_id) else None


@routes.get("/paywall", name="paywall")
async def paywall_page(request: web.Request) -> web.Response:
    slug, app_user_id = request.query.get("pack", ""), _buyer(request.query.get("app_user_id", ""))
    offering = await _offering(request, slug) if app_user_id else None
    if offering is None or app_user_id is None:
        return await error_page(
            request, 404, "Nothing to buy here", "This paywall link names no pack on sale."
        )
    market = request.app[MARKETPLACE]
    click = uuid.uuid4().hex  # one key per rendering: a double-submitted button buys once
    token = await market.signer.form_token("paywall", app_user_id, slug, click)
    return await render(
        request,
        "paywall.html",
        {
            **offering,
            "app_user_id": app_user_id,
            "sandbox": market.revenuecat_sandbox is not None,
            "click": click,
            "form_token": token,
        },
    )


@routes.post("/paywall/purchase", name="paywall-purchase")
async def paywall_purchase(request: web.Request) -> web.Response:
    market = request.app[MARKETPLACE]
    form = await request.post()
    slug, click, token = (str(form.get(name, "")) for name in ("pack", "click", "form_token"))
    app_user_id = _buyer(str(form.get("app_user_id", "")))
    sandbox = market.revenuecat_sandbox
    if sandbox is None:
        return await error_page(request, 404, "Buy in the app", "Purchases complete in the app store.")
    if (
        app_user_id is None
        or not click
        or not await market.signer.form_token_valid(token, "paywall", app_user_id, slug, click)
    ):
        return await error_page(request, 400, "Form expired", "Open the paywall link again.")
    offering = await _offering(request, slug)
    if offering is None:
        return await error_page(request, 409, "Not on sale", "This pack is no longer sold here.")

    async def purchase() -> StoredAnswer:
        try:
            event_id = await sandbox.purchase(
                app_user_id, str(offering["product_id"]), subscription=bool(offering["subscription"])
            )
        except ProviderError as exc:
            log.warning("paywall_purchase_failed", error=str(exc), retryable=exc.retryable)
            return StoredAnswer(503 if exc.retryable else 422, {"error": {"message": str(exc)}})
        log.info("paywall_purchase_sent", pack_slug=slug, event_id=event_id)
        return StoredAnswer(200, {"event_id": event_id})

    request_body = orjson.dumps([app_user_id, slug])
    answer = await answer_once(market.paywall_clicks, app_user_id, click, request_body, purchase)
    if answer.status != 200:
        return await error_page(request, answer.status, "Purchase failed", "Nothing was charged; try again.")
    return await render(request, "paywall_done.html", {**offering, "app_user_id": app_user_id})
