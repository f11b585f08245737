"""RevenueCat's REST API as the adapter sees it: Bearer auth, faults on demand, v1 customers, v2 catalog."""

import asyncio
import hmac
import math
from typing import Any

from aiohttp import web

from sandboxes.revenuecat.customer_info import render_customer_info
from sandboxes.revenuecat.state import STATE

routes = web.RouteTableDef()
V2_RATE_LIMIT = 60  # project configuration domain, requests per minute


def v1_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def v2_error(status: int, error_type: str, message: str, *, retryable: bool = False) -> web.Response:
    body = {
        "object": "error",
        "type": error_type,
        "message": message,
        "retryable": retryable,
        "doc_url": f"https://errors.rev.cat/{error_type.replace('_', '-')}",
    }
    return web.json_response(body, status=status)


def _api_of(path: str) -> str | None:
    if path.startswith("/v1/"):
        return "v1"
    if path.startswith("/v2/"):
        return "v2"
    return None


@web.middleware
async def api_guard(request: web.Request, handler: Any) -> web.StreamResponse:
    """Authenticate API calls, record them and answer with any fault set through the control API."""
    api = _api_of(request.path)
    if api is None:
        response: web.StreamResponse = await handler(request)
        return response
    state = request.app[STATE]
    key = state.config.api_key if api == "v1" else state.config.api_v2_key or state.config.api_key
    presented = request.headers.get("Authorization", "")
    if not key or not hmac.compare_digest(presented.encode(), f"Bearer {key}".encode()):
        if api == "v1":
            return v1_error(401, 7225, "Invalid API key.")
        return v2_error(401, "authentication_error", "Invalid API key.")
    fault = state.faults.take(api, request.path, request.match_info.get("app_user_id"))
    if fault is not None:
        if fault.mode == "rate_limit":
            body = {
                "type": "rate_limit_error",
                "message": "Rate limit exceeded",
                "retryable": True,
                "doc_url": "https://errors.rev.cat/rate-limit-error",
                "backoff_ms": fault.backoff_ms,
            }
            headers = {"Retry-After": str(math.ceil(fault.backoff_ms / 1000))}
            return web.json_response(body, status=429, headers=headers)
        if fault.mode == "timeout":
            await asyncio.sleep(fault.delay_ms / 1000)  # the client gives up first
            return web.json_response({"code": 7110, "message": "Gateway timeout"}, status=504)
        if fault.mode == "drop" and request.transport is not None:
            request.transport.close()  # the client sees the connection die without an answer
            raise web.HTTPServiceUnavailable()
        return web.json_response({"code": 7110, "message": "Internal server error"}, status=fault.status)
    if (missing := _project(request)) is not None:
        return missing
    response = await handler(request)
    if api == "v2":
        usage = state.faults.calls("v2")
        response.headers["RevenueCat-Rate-Limit-Current-Usage"] = str(usage % V2_RATE_LIMIT)
        response.headers["RevenueCat-Rate-Limit-Current-Limit"] = str(V2_RATE_LIMIT)
    return response


@routes.get("/v1/subscribers/{app_user_id}")
async def get_subscriber(request: web.Request) -> web.Response:
    """Get or create the customer, as RevenueCat does."""
    state = request.app[STATE]
    customer = state.sandbox.customers.get_or_create(request.match_info["app_user_id"])
    is_sandbox = state.config.environment == "SANDBOX"
    return web.json_response(render_customer_info(customer, state.sandbox.catalog, is_sandbox))


# ---- v2: project configuration (products, entitlements, offerings, packages) ----


def _project(request: web.Request) -> web.Response | None:
    """404 for a v2 path naming another project than the sandbox's."""
    project_id = request.match_info.get("project_id")
    if project_id is not None and project_id != request.app[STATE].config.project_id:
        return v2_error(404, "resource_missing", "Project not found")
    return None


def _page(request: web.Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    """RevenueCat's list shape with ``limit`` / ``starting_after`` cursor paging."""
    limit = min(int(request.query.get("limit", "20")), 100)
    after = request.query.get("starting_after")
    start = next((i + 1 for i, item in enumerate(items) if item["id"] == after), 0) if after else 0
    page = items[start : start + limit]
    has_more = start + limit < len(items)
    next_page = f"{request.path}?starting_after={page[-1]['id']}&limit={limit}" if has_more and page else None
    return {"object": "list", "items": page, "next_page": next_page, "url": request.path}


def _expand(request: web.Request, what: str) -> bool:
    return any(what in value for value in request.query.getall("expand", []))


async def _json(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return v2_error(400, "parameter_error", "Body is not JSON")
    if not isinstance(body, dict):
        return v2_error(400, "parameter_error", "Body must be an object")
    return body


@routes.get("/v2/projects/{project_id}/customers")
async def list_customers(request: web.Request) -> web.Response:
    """``list-customers``: the project's customers, ``id`` their original app user id, cursor paged."""
    state = request.app[STATE]
    items = [
        {
            "object": "customer",
            "id": customer.original_app_user_id,
            "project_id": request.match_info["project_id"],
            "first_seen_at": customer.first_seen_ms,
            "last_seen_at": customer.last_seen_ms or customer.first_seen_ms,
        }
        for customer in state.sandbox.customers.all()
    ]
    return web.json_response(_page(request, items))


@routes.get("/v2/projects/{project_id}/products")
async def list_products(request: web.Request) -> web.Response:
    catalog = request.app[STATE].sandbox.catalog
    return web.json_response(_page(request, [p.render() for p in catalog.products.values()]))


@routes.post("/v2/projects/{project_id}/products")
async def create_product(request: web.Request) -> web.Response:
    body = await _json(request)
    if isinstance(body, web.Response):
        return body
    if not body.get("store_identifier") or body.get("type") not in (
        "subscription",
        "one_time",
        "consumable",
        "non_consumable",
        "non_renewing_subscription",
    ):
        return v2_error(400, "parameter_error", "store_identifier and a valid type are required")
    catalog = request.app[STATE].sandbox.catalog
    if catalog.product_by_store_identifier(str(body["store_identifier"])) is not None:
        return v2_error(409, "resource_already_exists", "A product with this store_identifier exists")
    return web.json_response(catalog.add_product(body).render(), status=201)


@routes.get("/v2/projects/{project_id}/products/{product_id}")
async def get_product(request: web.Request) -> web.Response:
    product = request.app[STATE].sandbox.catalog.products.get(request.match_info["product_id"])
    if product is None:
        return v2_error(404, "resource_missing", "Product not found")
    return web.json_response(product.render())


@routes.get("/v2/projects/{project_id}/entitlements")
async def list_entitlements(request: web.Request) -> web.Response:
    catalog = request.app[STATE].sandbox.catalog
    expand = _expand(request, "product")
    items = [catalog.render_entitlement(e, expand) for e in catalog.entitlements.values()]
    return web.json_response(_page(request, items))


@routes.post("/v2/projects/{project_id}/entitlements")
async def create_entitlement(request: web.Request) -> web.Response:
    body = await _json(request)
    if isinstance(body, web.Response):
        return body
    if not body.get("lookup_key") or not body.get("display_name"):
        return v2_error(400, "parameter_error", "lookup_key and display_name are required")
    catalog = request.app[STATE].sandbox.catalog
    if catalog.entitlement_by_lookup_key(str(body["lookup_key"])) is not None:
        return v2_error(409, "resource_already_exists", "An entitlement with this lookup_key exists")
    entitlement = catalog.add_entitlement(str(body["lookup_key"]), str(body["display_name"]))
    return web.json_response(catalog.render_entitlement(entitlement, False), status=201)


@routes.get("/v2/projects/{project_id}/entitlements/{entitlement_id}/products")
async def entitlement_products(request: web.Request) -> web.Response:
    catalog = request.app[STATE].sandbox.catalog
    entitlement = catalog.entitlements.get(request.match_info["entitlement_id"])
    if entitlement is None:
        return v2_error(404, "resource_missing", "Entitlement not found")
    items = [catalog.products[p].render() for p in entitlement.product_ids if p in catalog.products]
    return web.json_response(_page(request, items))


@routes.post("/v2/projects/{project_id}/entitlements/{entitlement_id}/actions/{action}")
async def entitlement_products_action(request: web.Request) -> web.Response:
    """``attach_products`` / ``detach_products`` with ``{"product_ids": [...]}`` (idempotent)."""
    catalog = request.app[STATE].sandbox.catalog
    entitlement = catalog.entitlements.get(request.match_info["entitlement_id"])
    action = request.match_info["action"]
    if entitlement is None:
        return v2_error(404, "resource_missing", "Entitlement not found")
    if action not in ("attach_products", "detach_products"):
        return v2_error(404, "resource_missing", f"Unknown action {action}")
    body = await _json(request)
    if isinstance(body, web.Response):
        return body
    product_ids = [str(p) for p in body.get("product_ids") or []]
    if unknown := [p for p in product_ids if p not in catalog.products]:
        return v2_error(404, "resource_missing", f"Unknown products {unknown}")
    for product_id in product_ids:
        if action == "attach_products" and product_id not in entitlement.product_ids:
            entitlement.product_ids.append(product_id)
        if action == "detach_products" and product_id in entitlement.product_ids:
            entitlement.product_ids.remove(product_id)
    return web.json_response(catalog.render_entitlement(entitlement, True))


@routes.get("/v2/projects/{project_id}/offerings")
async def list_offerings(request: web.Request) -> web.Response:
    catalog = request.app[STATE].sandbox.catalog
    expand = _expand(request, "package")
    items = [catalog.render_offering(o, expand) for o in catalog.offerings.values()]
    return web.json_response(_page(request, items))


@routes.post("/v2/projects/{project_id}/offerings")
async def create_offering(request: web.Request) -> web.Response:
    body = await _json(request)
    if isinstance(body, web.Response):
        return body
    if not body.get("lookup_key") or not body.get("display_name"):
        return v2_error(400, "parameter_error", "lookup_key and display_name are required")
    catalog = request.app[STATE].sandbox.catalog
    if any(o.lookup_key == body["lookup_key"] for o in catalog.offerings.values()):
        return v2_error(409, "resource_already_exists", "An offering with this lookup_key exists")
    return web.json_response(catalog.render_offering(catalog.add_offering(body), False), status=201)


@routes.get("/v2/projects/{project_id}/offerings/{offering_id}")
async def get_offering(request: web.Request) -> web.Response:
    catalog = request.app[STATE].sandbox.catalog
    offering = catalog.offerings.get(request.match_info["offering_id"])
    if offering is None:
        return v2_error(404, "resource_missing", "Offering not found")
    return web.json_response(catalog.render_offering(offering, _expand(request, "package")))


@routes.get("/v2/projects/{project_id}/offerings/{offering_id}/packages")
async def list_packages(request: web.Request) -> web.Response:
    catalog = request.app[STATE].sandbox.catalog
    offering = catalog.offerings.get(request.match_info["offering_id"])
    if offering is None:
        return v2_error(404, "resource_missing", "Offering not found")
    return web.json_response(_page(request, [catalog.render_package(p) for p in offering.packages]))


@routes.post("/v2/projects/{project_id}/offerings/{offering_id}/packages")
async def create_package(request: web.Request) -> web.Response:
    catalog = request.app[STATE].sandbox.catalog
    offering = catalog.offerings.get(request.match_info["offering_id"])
    if offering is None:
        return v2_error(404, "resource_missing", "Offering not found")
    body = await _json(request)
    if isinstance(body, web.Response):
        return body
    if not body.get("lookup_key") or not body.get("display_name"):
        return v2_error(400, "parameter_error", "lookup_key and display_name are required")
    if any(p.lookup_key == body["lookup_key"] for p in offering.packages):
        return v2_error(409, "resource_already_exists", "A package with this lookup_key exists")
    return web.json_response(catalog.render_package(catalog.add_package(offering, body)), status=201)


@routes.post("/v2/projects/{project_id}/packages/{package_id}/actions/attach_products")
async def attach_package_products(request: web.Request) -> web.Response:
    """``{"products": [{"product_id", "eligibility_criteria"}]}``; attaching twice changes nothing."""
    catalog = request.app[STATE].sandbox.catalog
    package = catalog.find_package(request.match_info["package_id"])
    if package is None:
        return v2_error(404, "resource_missing", "Package not found")
    body = await _json(request)
    if isinstance(body, web.Response):
        return body
    for item in body.get("products") or []:
        product_id = str(item.get("product_id"))
        if product_id not in catalog.products:
            return v2_error(404, "resource_missing", f"Unknown product {product_id}")
        if all(p["product_id"] != product_id for p in package.products):
            package.products.append(
                {"product_id": product_id, "eligibility": str(item.get("eligibility_criteria", "all"))}
            )
    return web.json_response(catalog.render_package(package))
