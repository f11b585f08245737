"""Machine-readable error bodies: ``{"error": {"code", "message", "field"?}}``, for every HTTP route."""

from typing import Any

from aiohttp import web
from pydantic import ValidationError


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return web.json_response({"error": error}, status=status)


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """The first problem pydantic found: its message and where (the field path, dotted)."""
    first = exc.errors()[0]
    return first["msg"], ".".join(map(str, first["loc"]))


def validation_error_response(exc: ValidationError, code: str) -> web.Response:
    """400 naming the first problem of a request body that does not validate."""
    message, field = first_problem(exc)
    return error_response(400, code, message, field)
