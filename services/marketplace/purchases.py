"""``POST /market/packs/{slug}/checkout``: a buy button, for the signed-in user, via ``/v1/checkout``'s code.

The card / app-store button goes on to RevenueCat's checkout URL (a Web Purchase Link, else our hosted
paywall); the Lightning button to our invoice page. Each click carries its own idempotency key.
"""

from typing import Any

import orjson
import structlog
from aiohttp import web

from services.gateway.checkout import start_checkout
from services.gateway.context import GATEWAY
from services.gateway.idempotency import StoredAnswer
from services.gateway.pack_views import pack_view
from services.gateway.security_context import SECURITY
from services.marketplace.clicks import answer_once
from services.marketplace.context import MARKETPLACE
from services.marketplace.pages import error_page, sign_in_redirect, signed_in, visitor_market
from shared.db.catalog_state import load_stored_catalog
from shared.domain.audit import AuditEntry, user_subject
from shared.domain.checkout import CheckoutInput
from shared.domain.provider import Provider

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


@routes.post("/market/packs/{slug}/checkout", name="market-checkout")
async def buy(request: web.Request) -> web.StreamResponse:
    session = await signed_in(request)
    slug = request.match_info["slug"]
    if session is None:  # back to the pack's page: a POST cannot be replayed by a redirect
        raise sign_in_redirect(request, f"/market/packs/{slug}")
    form = await request.post()
    click, token = str(form.get("click", "")), str(form.get("form_token", ""))
    market = request.app[MARKETPLACE]
    if not click or not await market.signer.form_token_valid(token, session.user_id, slug, click):
        return await error_page(request, 400, "Form expired", "Reload the pack's page and try again.")
    try:
        provider = Provider(str(form.get("provider", "")))
    except ValueError:
        return await error_page(request, 400, "Unknown payment method", "Choose card or Lightning.")
    market_of_visitor = visitor_market(request)
    if not await _sold_here(request, slug, provider, market_of_visitor, session.user_id):
        return await error_page(
            request, 409, "Not sold here", f"This pack is not sold with {provider.value} here."
        )
    checkout = CheckoutInput(
        user_id=session.user_id, pack_slug=slug, provider=provider, market=market_of_visitor
    )

    async def start() -> StoredAnswer:
        answer = await start_checkout(request, checkout)
        if answer.status == 201:  # audited once, not on a replayed click
            await request.app[SECURITY].audit.append(_audit_entry(session.user_id, answer.body))
        return answer

    clicked = f"{click}:{provider.value}"  # each button of the page is its own click
    answer = await answer_once(
        market.checkout_clicks,
        session.user_id,
        clicked,
        orjson.dumps(checkout.model_dump(mode="json")),
        start,
    )
    if answer.status != 201:
        error = answer.body.get("error", {})
        log.info("marketplace_checkout_refused", status=answer.status, code=error.get("code"))
        status = 503 if answer.status >= 500 else answer.status
        return await error_page(request, status, "Checkout failed", str(error.get("message", "try again")))
    started = answer.body
    if provider is Provider.LIGHTNING:
        raise web.HTTPSeeOther(request.app.router["market-invoice"].url_for(checkout_id=str(started["id"])))
    raise web.HTTPSeeOther(str(started["checkoutUrl"]))


async def _sold_here(
    request: web.Request, slug: str, provider: Provider, market: str | None, user_id: str
) -> bool:
    """The same availability the pack page (and ``GET /v1/packs``) shows this user in this market."""
    async with request.app[GATEWAY].sessions() as session:
        catalog = await load_stored_catalog(session)
    pack = catalog.get(slug)
    return pack is not None and bool(
        pack_view(pack, catalog, market, user_id)["providers"][provider.value]["available"]
    )


def _audit_entry(user_id: str, started: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        actor=f"marketplace:user:{user_id}",
        event="checkout.created",
        subject=user_subject(user_id),
        details={
            k: started.get(k) for k in ("id", "provider", "packSlug", "purchaseReference", "amountMinor")
        },
    )
