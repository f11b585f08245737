"""Machine-readable error bodies: ``{"error": {"code", "message", "field"?}}``, for every HTTP route."""

from typing import Any

from aiohttp import web


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return web.json_response({"error": error}, status=status)
