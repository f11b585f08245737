"""``GET /openapi.json`` (the OpenAPI 3.1 document, built from ``api_spec.OPERATIONS`` and the
models they name) and ``GET /docs`` (Swagger UI over it, its assets served from the checkout:
``make setup`` installs npm's ``swagger-ui-dist``; nothing is fetched from a CDN).
Both are public (route_policy.py): the document holds no secret."""

from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from services.gateway.api_spec import SECURITY_SCHEMES, gateway_operations
from shared.http.openapi import openapi_document
from shared.settings import Settings

DEFAULT_ASSETS = Path(__file__).resolve().parents[2] / ".local/swagger-ui/node_modules/swagger-ui-dist"
DESCRIPTION = (
    "HomeTryOn Billing: RevenueCat and Lightning behind one API. Errors are always "
    '`{"error": {"code", "message", "field"?}}`. Details: docs/api.md.'
)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HomeTryOn Billing API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
<link rel="icon" href="/docs/static/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/docs-init.js"></script>
</body></html>
"""


@cache
def gateway_openapi() -> dict[str, Any]:
    return openapi_document(
        gateway_operations(),
        title="HomeTryOn Billing gateway",
        version="1",
        description=DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
    )


async def openapi_json(_: web.Request) -> web.Response:
    return web.json_response(gateway_openapi())


async def docs_page(_: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def docs_init(_: web.Request) -> web.Response:
    # A script file, not inline: the page needs no 'unsafe-inline' script policy.
    script = 'window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});\n'
    return web.Response(text=script, content_type="application/javascript")


def install_api_docs(app: web.Application, settings: Settings) -> None:
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/docs", docs_page)
    app.router.add_get("/docs/static/docs-init.js", docs_init)
    assets = Path(settings.swagger_ui_dir) if settings.swagger_ui_dir else DEFAULT_ASSETS
    # Absent (make setup not run): /docs/static answers 404 and the page stays blank; the API is unaffected.
    if assets.is_dir():
        app.router.add_static("/docs/static", assets)
