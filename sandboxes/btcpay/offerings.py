"""Store pricing for catalog sync: the offerings and plans of BTCPay 2.x Subscriptions."""

import re
from typing import Any

from sandboxes.btcpay.state import SandboxError, Store, new_id

RECURRING_TYPES = ("Monthly", "Quarterly", "Yearly", "Lifetime")
_PRICE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def create_offering(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    offering_id = new_id(18, "offering_")
    offering: dict[str, Any] = {
        "id": offering_id,
        "storeId": store.id,
        "appId": new_id(12, "app_"),
        "plans": [],
    }
    offering.update(_offering_fields(request))
    store.offerings[offering_id] = offering
    return offering


def update_offering(store: Store, offering_id: str, request: dict[str, Any]) -> dict[str, Any]:
    offering = get_offering(store, offering_id)
    offering.update(_offering_fields(request))
    return offering


def get_offering(store: Store, offering_id: str) -> dict[str, Any]:
    offering = store.offerings.get(offering_id)
    if offering is None:
        raise SandboxError(404, "offering-not-found", "The offering could not be found")
    return offering


def _offering_fields(request: dict[str, Any]) -> dict[str, Any]:
    if not request.get("appName"):
        raise SandboxError(400, "validation", "appName is required")
    features = request.get("features") or []
    for feature in features:
        if not isinstance(feature, dict) or not feature.get("id") or "description" not in feature:
            raise SandboxError(400, "validation", "each feature needs an id and a description")
    return {
        "appName": request["appName"],
        "successRedirectUrl": request.get("successRedirectUrl"),
        "metadata": request.get("metadata") or {},
        "features": features,
    }


def create_plan(store: Store, offering_id: str, request: dict[str, Any]) -> dict[str, Any]:
    offering = get_offering(store, offering_id)
    plan = {"id": new_id(18, "plan_"), "status": "Active", "memberCount": 0}
    plan.update(_plan_fields(offering, request))
    offering["plans"].append(plan)
    return plan


def update_plan(store: Store, offering_id: str, plan_id: str, request: dict[str, Any]) -> dict[str, Any]:
    """Not in the stored spec revision (BTCPay edits plans in its UI); takes a CreatePlanRequest."""
    offering = get_offering(store, offering_id)
    for plan in offering["plans"]:
        if plan["id"] == plan_id:
            plan.update(_plan_fields(offering, request))
            return dict(plan)
    raise SandboxError(404, "plan-not-found", "The plan could not be found")


def _plan_fields(offering: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    price = request.get("price")
    if price is not None and not _PRICE.match(str(price)):
        raise SandboxError(400, "validation", "price must be a numeric string")
    recurring = request.get("recurringType") or "Monthly"
    if recurring not in RECURRING_TYPES:
        raise SandboxError(400, "validation", f"recurringType must be one of {', '.join(RECURRING_TYPES)}")
    known = {f["id"] for f in offering["features"]}
    unknown = [f for f in request.get("features") or [] if f not in known]
    if unknown:
        raise SandboxError(400, "validation", f"features not in the offering: {', '.join(unknown)}")
    return {
        "name": request.get("name") or "",
        "price": str(price) if price is not None else "0",
        "currency": request.get("currency") or "USD",
        "recurringType": recurring,
        "gracePeriodDays": request.get("gracePeriodDays") or 0,
        "trialDays": request.get("trialDays") or 0,
        "description": request.get("description") or "",
        "optimisticActivation": bool(request.get("optimisticActivation") or False),
        "features": request.get("features") or [],
        "renewable": request.get("renewable") if request.get("renewable") is not None else True,
        "metadata": request.get("metadata") or {},
    }


def get_plan(store: Store, offering_id: str, plan_id: str) -> dict[str, Any]:
    for plan in get_offering(store, offering_id)["plans"]:
        if plan["id"] == plan_id:
            return dict(plan)
    raise SandboxError(404, "plan-not-found", "The plan could not be found")
