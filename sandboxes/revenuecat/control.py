"""``/control/...``: simulate what customers and stores do, inspect deliveries, inject faults.

Every simulation takes ``deliver`` ("now" | "hold"), ``duplicates`` (extra copies) and ``webhook_url``
(send this event elsewhere) besides its own fields, and answers ``{"event": ..., "deliveries": n}``.
"""

from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandboxes.revenuecat.customer_info import render_customer_info
from sandboxes.revenuecat.customers import CLOCK_OFFSET_MS
from sandboxes.revenuecat.delivery import DeliveryOptions
from sandboxes.revenuecat.faults import Fault
from sandboxes.revenuecat.simulations import Sandbox, SimulationError
from sandboxes.revenuecat.state import STATE

routes = web.RouteTableDef()

SIMULATIONS: dict[str, Callable[[Sandbox, dict[str, Any]], dict[str, Any]]] = {
    "purchase": Sandbox.purchase,
    "renewal": Sandbox.renew,
    "cancellation": Sandbox.cancel,
    "uncancellation": Sandbox.uncancel,
    "expiration": Sandbox.expire,
    "billing-issue": Sandbox.billing_issue,
    "product-change": Sandbox.change_product,
    "refund": Sandbox.refund,
    "refund-reversed": Sandbox.reverse_refund,
    "transfer": Sandbox.transfer,
    "pause": Sandbox.pause,
    "extension": Sandbox.extend,
    "temporary-grant": Sandbox.temporary_grant,
    "non-renewing-purchase": Sandbox.non_renewing_purchase,
    "test-event": Sandbox.bare_event,
    "custom-event": Sandbox.bare_event,
}


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": {"code": "bad_request", "message": message}}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


@routes.post("/control/simulate/{kind}")
async def simulate(request: web.Request) -> web.Response:
    state = request.app[STATE]
    kind = request.match_info["kind"]
    simulation = SIMULATIONS.get(kind)
    if simulation is None:
        return _bad(f"unknown simulation {kind!r}; one of {sorted(SIMULATIONS)}", 404)
    body = await _body(request)
    if kind == "test-event":
        body["type"] = "TEST"
    try:
        webhook = simulation(state.sandbox, body)
    except KeyError as exc:
        return _bad(f"missing field {exc.args[0]!r}")
    except SimulationError as exc:
        return _bad(str(exc), 409)
    options = DeliveryOptions(
        hold=body.get("deliver") == "hold",
        duplicates=int(body.get("duplicates", 0)),
        url=body.get("webhook_url"),
    )
    deliveries = state.sender.send(webhook, options)
    return web.json_response({"event": webhook["event"], "deliveries": len(deliveries)})


@routes.post("/control/webhooks/flush")
async def flush(request: web.Request) -> web.Response:
    """Deliver held events, in the order they were made or ``shuffle``d (``seed`` for a fixed order)."""
    body = await _body(request)
    seed = body.get("seed")
    sent = await request.app[STATE].sender.flush(
        bool(body.get("shuffle")), int(seed) if seed is not None else None
    )
    return web.json_response({"order": [d.event_id for d in sent]})


@routes.get("/control/deliveries")
async def deliveries(request: web.Request) -> web.Response:
    event_id = request.query.get("event_id")
    found = [d.view() for d in request.app[STATE].sender.deliveries if event_id in (None, d.event_id)]
    return web.json_response({"deliveries": found})


@routes.post("/control/aliases")
async def add_alias(request: web.Request) -> web.Response:
    state = request.app[STATE]
    customer = state.sandbox.add_alias(await _body(request))
    return web.json_response(
        {"original_app_user_id": customer.original_app_user_id, "aliases": customer.aliases}
    )


@routes.get("/control/customers/{app_user_id}")
async def peek_customer(request: web.Request) -> web.Response:
    """CustomerInfo without counting as an API call (no auth, no faults)."""
    state = request.app[STATE]
    customer = state.sandbox.customers.find(request.match_info["app_user_id"])
    if customer is None:
        return _bad("no such customer", 404)
    return web.json_response(render_customer_info(customer, state.sandbox.catalog, True))


@routes.post("/control/faults")
async def add_fault(request: web.Request) -> web.Response:
    """``{"scope": "v1"|"v2"|"all", "mode": "rate_limit"|"error"|"drop"|"timeout", "app_user_id"?,
    "count"?, "status"?, "backoff_ms"?, "delay_ms"?}``; ``{"mode": "off"}`` clears the faults of that
    scope and customer."""
    body = await _body(request)
    faults = request.app[STATE].faults
    scope, app_user_id = str(body.get("scope", "all")), body.get("app_user_id")
    if body.get("mode") == "off":
        faults.active = [f for f in faults.active if (f.scope, f.app_user_id) != (scope, app_user_id)]
        return web.json_response({"faults": len(faults.active)})
    if body.get("mode") not in ("rate_limit", "error", "drop", "timeout"):
        return _bad("mode must be rate_limit, error, drop, timeout or off")
    count = body.get("count")
    faults.active.append(
        Fault(
            scope=scope,
            mode=str(body["mode"]),
            app_user_id=app_user_id,
            remaining=int(count) if count is not None else None,
            status=int(body.get("status", 503)),
            backoff_ms=int(body.get("backoff_ms", 1000)),
            delay_ms=int(body.get("delay_ms", 30_000)),
        )
    )
    return web.json_response({"faults": len(faults.active)}, status=201)


@routes.post("/control/clock")
async def skew_clock(request: web.Request) -> web.Response:
    """``{"offset_ms": N}``: RevenueCat's clock runs N ms ahead of this machine's (negative: behind)."""
    body = await _body(request)
    CLOCK_OFFSET_MS[0] = int(body.get("offset_ms", 0))
    return web.json_response({"offset_ms": CLOCK_OFFSET_MS[0]})


@routes.get("/control/api-calls")
async def api_calls(request: web.Request) -> web.Response:
    faults = request.app[STATE].faults
    count = faults.calls(request.query.get("api"), request.query.get("app_user_id"))
    return web.json_response({"count": count})


@routes.patch("/control/products/{product_id}")
async def edit_product(request: web.Request) -> web.Response:
    """Edit a product behind the catalog's back (by id or store identifier), to test drift repair."""
    catalog = request.app[STATE].sandbox.catalog
    key = request.match_info["product_id"]
    product = catalog.products.get(key) or catalog.product_by_store_identifier(key)
    if product is None:
        return _bad("no such product", 404)
    for name, value in (await _body(request)).items():
        if name in ("id", "created_at"):
            continue
        if name in ("store_identifier", "type", "app_id", "display_name", "subscription"):
            setattr(product, name, value)
        else:
            product.extra[name] = value
    return web.json_response(product.render())
