"""aiohttp's own HTTP errors rendered as our machine-readable error body."""

from typing import Any

from aiohttp import web

from shared.http.errors import error_response


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Render aiohttp's own HTTP errors (404, 405, 413 …) in the same shape."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
