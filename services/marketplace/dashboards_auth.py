"""Who may see the dashboards: an operator who signed in with an ``admin`` API key, once.

The key is posted to ``/market/admin/sign-in`` and checked like the API checks it (an admin-scoped
key, or the bootstrap ``admin_api_key``); the browser then keeps only ``hto_admin_session``, signed
for that purpose alone (a user's marketplace cookie never passes as one), ``HttpOnly``,
``SameSite=Strict``, limited to ``/market/admin`` and ``admin_dashboard_session_ttl_s``.
"""

import structlog
from aiohttp import web

from services.gateway.auth import principal_for_key
from services.marketplace.context import MARKETPLACE
from services.marketplace.pages import render
from shared.security.api_keys import Scope

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
ADMIN_COOKIE = "hto_admin_session"
ADMIN_PATH = "/market/admin"


async def signed_in_admin(request: web.Request) -> str | None:
    """The signed-in operator (``apikey:<id>``), or None."""
    session = await request.app[MARKETPLACE].admin_signer.session_of(request.cookies.get(ADMIN_COOKIE))
    return session.user_id if session else None


@routes.get(f"{ADMIN_PATH}/sign-in", name="admin-signin")
async def admin_sign_in_page(request: web.Request) -> web.Response:
    return await render(request, "dashboard_sign_in.html", {"refused": False})


@routes.post(f"{ADMIN_PATH}/sign-in")
async def admin_sign_in(request: web.Request) -> web.Response:
    market = request.app[MARKETPLACE]
    key = str((await request.post()).get("api_key", "")).strip()
    principal = await principal_for_key(request, key) if key else None
    if principal is None or Scope.ADMIN not in principal.scopes:
        log.warning("dashboard_sign_in_refused")
        return await render(request, "dashboard_sign_in.html", {"refused": True}, status=401)
    log.info("dashboard_signed_in", actor=principal.actor)
    response = web.HTTPSeeOther(f"{ADMIN_PATH}/")
    response.set_cookie(
        ADMIN_COOKIE,
        await market.admin_signer.cookie_for(principal.actor),
        max_age=market.settings.admin_dashboard_session_ttl_s,
        path=ADMIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=market.settings.marketplace_secure_cookie,
    )
    raise response


@routes.post(f"{ADMIN_PATH}/sign-out", name="admin-signout")
async def admin_sign_out(_: web.Request) -> web.Response:
    response = web.HTTPSeeOther(f"{ADMIN_PATH}/sign-in")
    response.del_cookie(ADMIN_COOKIE, path=ADMIN_PATH)
    raise response
