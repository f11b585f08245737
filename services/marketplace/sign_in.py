"""Signing in to the marketplace: a user token the platform minted, or (sandbox only) a typed user id.

The platform's back end mints ``POST /v1/users/{id}/tokens`` (admin) and hands the token to its user;
the token proves the user once, and the browser keeps only the signed session cookie, never a key.
"""

from aiohttp import web

from services.gateway.context import GATEWAY
from services.gateway.limits import valid_user_id
from services.marketplace.context import MARKETPLACE
from services.marketplace.pages import render
from services.marketplace.sessions import COOKIE_NAME
from shared.security.api_keys import authenticate

routes = web.RouteTableDef()


def local_path(value: str) -> str:
    """Only a path on this site may be the target after signing in (no open redirect)."""
    # "//host" and "/\\host" are other sites to a browser.
    return value if value.startswith("/") and value[1:2] not in ("/", "\\") else "/market/"


@routes.get("/market/sign-in", name="market-signin")
async def sign_in_page(request: web.Request) -> web.Response:
    dev = request.app[MARKETPLACE].settings.marketplace_dev_sign_in
    return await render(
        request,
        "sign_in.html",
        {
            "next": local_path(request.query.get("next", "")),
            "dev_sign_in": dev,
            # A demo link may name the user to sign in as; the form still has to be sent.
            "user_hint": request.query.get("user_id", "") if dev else "",
        },
    )


@routes.post("/market/sign-in")
async def sign_in(request: web.Request) -> web.Response:
    market = request.app[MARKETPLACE]
    form = await request.post()
    target = local_path(str(form.get("next", "")))
    user_id = await _user_of(
        request, str(form.get("token", "")).strip(), str(form.get("user_id", "")).strip()
    )
    if user_id is None:
        context = {"next": target, "dev_sign_in": market.settings.marketplace_dev_sign_in, "refused": True}
        return await render(request, "sign_in.html", context, status=401)
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        COOKIE_NAME,
        await market.signer.cookie_for(user_id),
        max_age=market.settings.marketplace_session_ttl_s,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=market.settings.marketplace_secure_cookie,
    )
    raise response


async def _user_of(request: web.Request, token: str, typed_user_id: str) -> str | None:
    if token:
        async with request.app[GATEWAY].sessions() as session:
            principal = await authenticate(session, token)
        return principal.user_id if principal is not None else None
    if request.app[MARKETPLACE].settings.marketplace_dev_sign_in and valid_user_id(typed_user_id):
        return typed_user_id
    return None


@routes.post("/market/sign-out", name="market-signout")
async def sign_out(_: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/market/")
    response.del_cookie(COOKIE_NAME, path="/")
    raise response
