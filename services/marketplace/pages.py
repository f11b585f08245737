"""What every marketplace page needs: who is signed in, the visitor's market, rendering, HTML errors."""

import re
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from services.marketplace.context import MARKETPLACE
from services.marketplace.sessions import COOKIE_NAME, BrowserSession
from shared.domain.markets import market_code

# "de-DE,de;q=0.9" → DE: the region of the browser's first language that names one.
LANGUAGE_REGION = re.compile(r"^[A-Za-z]{2,3}[-_]([A-Za-z]{2})$")


async def signed_in(request: web.Request) -> BrowserSession | None:
    return await request.app[MARKETPLACE].signer.session_of(request.cookies.get(COOKIE_NAME))


def visitor_market(request: web.Request) -> str | None:
    """``?market=DE`` when given, else the region of the browser's preferred language, else none."""
    chosen = market_code(request.query.get("market", ""))
    if chosen:
        return chosen
    for part in request.headers.get("Accept-Language", "").split(","):
        match = LANGUAGE_REGION.match(part.split(";")[0].strip())
        if match and (region := market_code(match.group(1))):
            return region
    return None


async def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    session = await signed_in(request)
    page = {"user_id": session.user_id if session else None, **context}
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    # Pages show a user's own state (prices per market, entitlements): never cached by proxies.
    response.headers["Cache-Control"] = "no-store"
    return response


async def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return await render(request, "error.html", {"title": title, "message": message}, status=status)


def sign_in_redirect(request: web.Request, back_to: str | None = None) -> web.HTTPSeeOther:
    """To the sign-in page, which then returns to ``back_to`` (default: this page)."""
    sign_in = request.app.router["market-signin"].url_for()
    return web.HTTPSeeOther(sign_in.with_query(next=back_to or request.path_qs))
