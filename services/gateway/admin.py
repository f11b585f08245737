"""Catalog admin API: create, update and deactivate packs (an ``admin``-scoped API key, or the
bootstrap admin key, secret ``admin_api_key``, as ``Authorization: Bearer <key>``; both checked
by the gateway's API-key middleware, services/gateway/auth.py).

Writes go through the same path as ``billing catalog apply`` (checked as a whole catalog, written
as a difference) and announce each change on ``billing.catalog.changes`` through the outbox.
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import structlog
from aiohttp import web
from pydantic import ValidationError

from services.gateway.auth import principal_of
from services.gateway.context import GATEWAY, GatewayContext
from services.gateway.pack_views import pack_view
from shared.catalog.errors import CatalogError
from shared.catalog.model import PackSpec
from shared.db.catalog_changes import PackChange
from shared.db.catalog_state import load_stored_catalog
from shared.db.catalog_write import lock_catalog, write_wanted_packs
from shared.db.unit_of_work import unit_of_work
from shared.http.errors import error_response
from shared.security.api_keys import Scope

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.Response]]


def admin_only(handler: Handler) -> Handler:
    """Guards an admin route: the gateway's API-key middleware must have admitted an ``admin``
    principal (it alone checks keys, the bootstrap admin key through the secret provider)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.Response:
        principal = principal_of(request)
        if principal is None or Scope.ADMIN not in principal.scopes:
            log.warning("admin_rejected", path=request.path)
            return error_response(401, "unauthorized", "a valid admin API key is required", "Authorization")
        return await handler(request)

    return guarded


@routes.post("/v1/admin/packs")
@admin_only
async def create_pack(request: web.Request) -> web.Response:
    spec = await _pack_spec(request, slug=None)
    if isinstance(spec, web.Response):
        return spec
    return await _save(request.app[GATEWAY], spec, must_exist=False, status=201)


@routes.put("/v1/admin/packs/{slug}")
@admin_only
async def update_pack(request: web.Request) -> web.Response:
    spec = await _pack_spec(request, slug=request.match_info["slug"])
    if isinstance(spec, web.Response):
        return spec
    return await _save(request.app[GATEWAY], spec, must_exist=True, status=200)


@routes.post("/v1/admin/packs/{slug}/deactivate")
@admin_only
async def deactivate_pack(request: web.Request) -> web.Response:
    """The pack is no longer sold; it is never deleted, so its owners keep it."""
    ctx = request.app[GATEWAY]
    slug = request.match_info["slug"]
    async with ctx.sessions() as session:
        stored = (await load_stored_catalog(session)).get(slug)
    if stored is None:
        return error_response(404, "pack_not_found", f"no pack {slug!r}", "slug")
    return await _save(ctx, stored.spec().model_copy(update={"active": False}), must_exist=True, status=200)


async def _pack_spec(request: web.Request, slug: str | None) -> PackSpec | web.Response:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return error_response(400, "invalid_pack", "the body is not JSON")
    if not isinstance(body, dict):
        return error_response(400, "invalid_pack", "the body must be a JSON object (a pack)")
    if slug is not None and body.setdefault("slug", slug) != slug:
        return error_response(400, "invalid_pack", "the slug of a pack cannot change", "slug")
    try:
        return PackSpec.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"] if part != "[key]")
        return error_response(400, "invalid_pack", str(first["msg"]).removeprefix("Value error, "), field)


async def _save(ctx: GatewayContext, spec: PackSpec, *, must_exist: bool, status: int) -> web.Response:
    try:
        async with unit_of_work(ctx.sessions) as session:
            await lock_catalog(session)  # the existence check and the write see the same catalog
            exists = spec.slug in await load_stored_catalog(session)
            if exists != must_exist:
                if exists:
                    return error_response(
                        409, "pack_exists", f"pack {spec.slug!r} exists; PUT updates it", "slug"
                    )
                return error_response(404, "pack_not_found", f"no pack {spec.slug!r}", "slug")
            changes = await write_wanted_packs(
                session, {spec.slug: spec}, changes_topic=ctx.topics.catalog_changes
            )
    except CatalogError as exc:
        return _catalog_error_response(exc, spec.slug)
    async with ctx.sessions() as session:
        catalog = await load_stored_catalog(session)
    log.info("catalog_admin_write", slug=spec.slug, changes=[_change_json(c) for c in changes])
    return web.json_response(
        {"pack": pack_view(catalog[spec.slug], catalog, None), "changes": [_change_json(c) for c in changes]},
        status=status,
    )


def _catalog_error_response(error: CatalogError, slug: str) -> web.Response:
    """The first problem as the error; all of them, each with its pack and field, under ``issues``."""
    issues = [{"slug": issue.slug, "field": issue.field, "message": issue.message} for issue in error.issues]
    first = error.issues[0]
    field = first.field if first.slug in (None, slug) else f"{first.slug}:{first.field}"
    body = {"error": {"code": "invalid_catalog", "message": first.message, "field": field, "issues": issues}}
    return web.json_response(body, status=422)


def _change_json(change: PackChange) -> dict[str, Any]:
    return {"slug": change.slug, "change": change.kind.value, "fields": change.fields}
