"""``POST /v1/checkout``: start a purchase through the pack's provider connector, if the pack's
flags let this user buy it there in this market (``shared.catalog.gating.sale_decision``, the rule
``GET /v1/packs`` shows); else 422 ``pack_not_available``.

The market comes from the body's ``market`` or the ``X-Market`` header (ISO 3166-1 alpha-2).
Without either, only the pack's every-market flags apply, as in a listing without ``?market=``.
"""

import structlog
from aiohttp import web
from pydantic import ValidationError

from services.gateway.auth import caller_key_id
from services.gateway.context import GATEWAY
from services.gateway.idempotency import Claim, IdempotencyConflictError, StoredAnswer
from services.gateway.request_metrics import counted_checkout
from shared.catalog.gating import Refusal, SaleDecision, sale_decision
from shared.db.catalog import find_pack_by_id_or_slug, pack_from_row
from shared.db.checkout_sessions import record_checkout_session
from shared.db.unit_of_work import unit_of_work
from shared.domain.checkout import CheckoutInput
from shared.domain.errors import ProviderError
from shared.domain.markets import market_code
from shared.http.errors import error_response, validation_error_response
from shared.messaging.telemetry import TelemetryType

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
MARKET_HEADER = "X-Market"
REFUSED_FIELD = {
    Refusal.PROVIDER_OFF: "provider",
    Refusal.MARKET_OFF: "market",
    Refusal.NOT_IN_ROLLOUT: "userId",
}
REFUSED_BECAUSE = {
    Refusal.PROVIDER_OFF: "is not sold with {provider}",
    Refusal.MARKET_OFF: "is not sold with {provider} in {market}",
    Refusal.NOT_IN_ROLLOUT: "is not yet offered with {provider} to this user (gradual rollout)",
}


@routes.post("/v1/checkout")
async def create_checkout(request: web.Request) -> web.Response:
    ctx = request.app[GATEWAY]
    body = await request.read()
    try:
        checkout = CheckoutInput.model_validate_json(body)
    except ValidationError as exc:
        return validation_error_response(exc, "invalid_checkout")
    header_market = request.headers.get(MARKET_HEADER)
    if header_market is not None:
        code = market_code(header_market)
        if code is None:
            message = f"{MARKET_HEADER} must be an ISO 3166-1 alpha-2 country code"
            return error_response(400, "invalid_market", message, MARKET_HEADER)
        if checkout.market not in (None, code):
            message = f"market {checkout.market!r} and {MARKET_HEADER} {code!r} disagree"
            return error_response(400, "invalid_market", message, "market")
        checkout = checkout.model_copy(update={"market": code})
    idempotency_key = request.headers.get("Idempotency-Key")
    claim = None
    if idempotency_key:
        try:
            claim = await ctx.checkout_idempotency.claim(caller_key_id(request), idempotency_key, body)
        except IdempotencyConflictError as exc:
            return error_response(409, exc.code, str(exc), "Idempotency-Key")
        if claim.stored is not None:
            return web.json_response(claim.stored.body, status=claim.stored.status)
    try:
        answer = await start_checkout(request, checkout, claim)
    except BaseException:
        if claim is not None:
            await ctx.checkout_idempotency.release(claim)
        raise
    if claim is not None:
        if answer.status < 500:  # a created session has completed it already; this is a no-op then
            await ctx.checkout_idempotency.complete(claim, answer)
        else:
            await ctx.checkout_idempotency.release(claim)
    return web.json_response(answer.body, status=answer.status)


@counted_checkout
async def start_checkout(
    request: web.Request, checkout: CheckoutInput, claim: Claim | None = None
) -> StoredAnswer:
    """The checkout answer (201 + session, or an error body); the marketplace pages call it too.

    With ``claim``, the recorded session completes the idempotency key in the same transaction."""
    ctx = request.app[GATEWAY]
    connector = ctx.connectors.get(checkout.provider)
    if connector is None:
        return _error(422, "provider_unavailable", f"{checkout.provider.value} is not configured", "provider")
    named_by = "packId" if checkout.pack_slug is None else "packSlug"
    async with ctx.sessions() as session:
        row = await find_pack_by_id_or_slug(session, checkout.pack_id)
    if row is None or not row.is_active:
        return _error(404, "pack_not_found", f"no active pack {checkout.pack_id!r}", named_by)
    if checkout.pack_slug is not None and checkout.pack_slug != row.slug:
        message = f"packSlug {checkout.pack_slug!r} is not the slug of pack {checkout.pack_id!r}"
        return _error(400, "invalid_checkout", message, "packSlug")
    decision = sale_decision(row.feature_flags, checkout.provider, checkout.market, checkout.user_id)
    if decision.refusal is not None:
        log.info("checkout_refused_by_flags", provider=checkout.provider.value, flag=decision.flag)
        return _not_available(decision, decision.refusal, checkout, row.slug)
    try:
        started = await connector.create_checkout_session(checkout, pack_from_row(row))
    except ProviderError as exc:
        log.warning("checkout_provider_error", provider=exc.provider, error=str(exc))
        return _error(502 if exc.retryable else 422, "provider_error", str(exc))
    # Recorded (and answered) with what the client asked for beside what the provider handed out.
    started = started.model_copy(update={"pack_id": row.id, "metadata": dict(checkout.metadata)})
    answer = StoredAnswer(status=201, body=started.model_dump(mode="json", by_alias=True))
    async with unit_of_work(ctx.sessions) as session:
        await record_checkout_session(session, started, row.id)
        if claim is not None:  # one transaction: a recorded session always answers its key's retry
            await ctx.checkout_idempotency.complete(claim, answer, session)
    log.info("checkout_created", provider=checkout.provider.value, session_id=str(started.id))
    ctx.telemetry.emit(
        TelemetryType.CHECKOUT_STARTED,
        {
            "checkoutId": str(started.id),
            "pack": row.slug,
            "provider": checkout.provider.value,
            "market": checkout.market,
            "currency": started.currency,
            "amountMinor": started.amount_minor,
            "amountMsat": started.amount_msat,
        },
        user_id=checkout.user_id,
    )
    return answer


def _not_available(
    decision: SaleDecision, refusal: Refusal, checkout: CheckoutInput, slug: str
) -> StoredAnswer:
    """422 naming why (``reason``) and the flag that decided (``flag``), as ``GET /v1/packs`` hides it."""
    market = f"market {checkout.market}" if checkout.market else "any market"  # market.* refused it
    because = REFUSED_BECAUSE[refusal].format(provider=checkout.provider.value, market=market)
    error = {
        "code": "pack_not_available",
        "message": f"pack {slug!r} {because}",
        "field": REFUSED_FIELD[refusal],
        "reason": refusal.value,
        "flag": decision.flag,
    }
    return StoredAnswer(status=422, body={"error": error})


def _error(status: int, code: str, message: str, field: str | None = None) -> StoredAnswer:
    error: dict[str, str] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return StoredAnswer(status=status, body={"error": error})
