"""``POST /v1/checkout``: start a purchase through the pack's provider connector."""

import structlog
from aiohttp import web
from pydantic import ValidationError

from services.gateway.context import GATEWAY
from services.gateway.idempotency import IdempotencyConflictError, StoredAnswer
from shared.db.catalog import find_pack_by_slug, pack_from_row
from shared.db.checkout_sessions import record_checkout_session
from shared.domain.checkout import CheckoutInput
from shared.domain.errors import ProviderError
from shared.http.errors import error_response

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


@routes.post("/v1/checkout")
async def create_checkout(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    body = await request.read()
    try:
        checkout = CheckoutInput.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        return error_response(400, "invalid_checkout", first["msg"], ".".join(map(str, first["loc"])))
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key:
        try:
            stored = await ctx.checkout_idempotency.claim(idempotency_key, body)
        except IdempotencyConflictError as exc:
            return error_response(409, exc.code, str(exc), "Idempotency-Key")
        if stored is not None:
            return web.json_response(stored.body, status=stored.status)
    try:
        answer = await start_checkout(request, checkout)
    except BaseException:
        if idempotency_key:
            await ctx.checkout_idempotency.release(idempotency_key)
        raise
    if idempotency_key:
        if answer.status < 500:
            await ctx.checkout_idempotency.complete(idempotency_key, body, answer)
        else:
            await ctx.checkout_idempotency.release(idempotency_key)
    return web.json_response(answer.body, status=answer.status)


async def start_checkout(request: web.Request, checkout: CheckoutInput) -> StoredAnswer:
    """The checkout answer (201 + session, or an error body); the marketplace pages call it too."""
    ctx = request.app[GATEWAY]
    connector = ctx.connectors.get(checkout.provider)
    if connector is None:
        return _error(422, "provider_unavailable", f"{checkout.provider.value} is not configured", "provider")
    async with ctx.sessions() as session:
        row = await find_pack_by_slug(session, checkout.pack_slug)
    if row is None or not row.is_active:
        return _error(404, "pack_not_found", f"no active pack {checkout.pack_slug!r}", "packSlug")
    try:
        started = await connector.create_checkout_session(checkout, pack_from_row(row))
    except ProviderError as exc:
        log.warning("checkout_provider_error", provider=exc.provider, error=str(exc))
        return _error(502 if exc.retryable else 422, "provider_error", str(exc))
    async with ctx.sessions() as session, session.begin():
        await record_checkout_session(session, started, row.id)
    log.info("checkout_created", provider=checkout.provider.value, session_id=str(started.id))
    return StoredAnswer(status=201, body=started.model_dump(mode="json", by_alias=True))


def _error(status: int, code: str, message: str, field: str | None = None) -> StoredAnswer:
    error: dict[str, str] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return StoredAnswer(status=status, body={"error": error})
