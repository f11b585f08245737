"""Vault's response envelope and error shape (``{"errors": [...]}``)."""

import uuid
from typing import Any

from aiohttp import web


def envelope(data: dict[str, Any] | None = None, auth: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": auth,
        "mount_type": "",
    }


def ok(data: dict[str, Any] | None = None, auth: dict[str, Any] | None = None) -> web.Response:
    return web.json_response(envelope(data, auth))


def errors(status: int, *messages: str) -> web.Response:
    return web.json_response({"errors": list(messages)}, status=status)


def permission_denied() -> web.Response:
    return errors(403, "permission denied")
