"""ETag + Cache-Control for read endpoints: a client holding the current ETag gets 304 and no body."""

import hashlib
from typing import Any

import orjson
from aiohttp import web

CACHE_CONTROL = "public, max-age=60"


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches_if_none_match(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def cached_json(request: web.Request, payload: Any) -> web.Response:
    """``payload`` as JSON with its ETag, or 304 when the client already has this version."""
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if matches_if_none_match(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)
