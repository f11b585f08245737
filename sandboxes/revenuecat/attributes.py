"""``POST /v1/subscribers/{app_user_id}/attributes``: customer attributes, as RevenueCat's v1 sets them."""

import re

from aiohttp import web

from sandboxes.revenuecat.api import v1_error
from sandboxes.revenuecat.customer_info import render_customer_info
from sandboxes.revenuecat.customers import now_ms
from sandboxes.revenuecat.state import STATE

routes = web.RouteTableDef()
ATTRIBUTE_KEY = re.compile(r"^[$A-Za-z0-9_.-]{1,40}$")
ATTRIBUTE_VALUE_MAX_CHARS = 500


@routes.post("/v1/subscribers/{app_user_id}/attributes")
async def update_subscriber_attributes(request: web.Request) -> web.Response:
    """Set, or delete (null or empty value), attributes; an older ``updated_at_ms`` changes nothing."""
    state = request.app[STATE]
    try:
        body = await request.json()
    except ValueError:
        return v1_error(400, 7225, "Body is not JSON")
    attributes = body.get("attributes") if isinstance(body, dict) else None
    if not isinstance(attributes, dict) or not all(isinstance(a, dict) for a in attributes.values()):
        return v1_error(400, 7226, "attributes must map names to {value, updated_at_ms}")
    problems = [
        {"key_name": key, "message": message}
        for key, attribute in attributes.items()
        if (message := _attribute_problem(key, attribute.get("value")))
    ]
    if problems:
        refusal = {"code": 7263, "message": "Some customer attribute keys were unable to be saved."}
        return web.json_response(refusal | {"attribute_errors": problems}, status=400)
    customer = state.sandbox.customers.get_or_create(request.match_info["app_user_id"])
    for key, attribute in attributes.items():
        updated_at_ms = int(attribute.get("updated_at_ms") or now_ms())
        stored = customer.attributes.get(key)
        if stored is not None and stored["updated_at_ms"] > updated_at_ms:
            continue
        if attribute.get("value") in (None, ""):
            customer.attributes.pop(key, None)
        else:
            customer.attributes[key] = {"value": attribute["value"], "updated_at_ms": updated_at_ms}
    is_sandbox = state.config.environment == "SANDBOX"
    return web.json_response(render_customer_info(customer, state.sandbox.catalog, is_sandbox))


def _attribute_problem(key: str, value: object) -> str | None:
    if not ATTRIBUTE_KEY.match(key):
        return "Key name format is not valid."
    if value is not None and not isinstance(value, str):
        return "Value must be a string."
    if isinstance(value, str) and len(value) > ATTRIBUTE_VALUE_MAX_CHARS:
        return "Value is too long."
    return None
