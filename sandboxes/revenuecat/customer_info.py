"""Renders a customer as RevenueCat's CustomerInfo (``GET /v1/subscribers/{app_user_id}``)."""

from typing import Any

from sandboxes.revenuecat.customers import Customer, iso, now_ms
from sandboxes.revenuecat.project_catalog import ProjectCatalog

MANAGEMENT_URLS = {
    "APP_STORE": "https://apps.apple.com/account/subscriptions",
    "PLAY_STORE": "https://play.google.com/store/account/subscriptions",
}


def _entitlements(customer: Customer, catalog: ProjectCatalog) -> dict[str, dict[str, Any]]:
    """Per entitlement, the purchase with the furthest-out expiry (lifetime beats any date)."""
    best: dict[str, tuple[float, dict[str, Any]]] = {}

    def offer(
        keys: list[str], expires_ms: int | None, grace_ms: int | None, product: str, bought: int
    ) -> None:
        rank = float("inf") if expires_ms is None else float(max(expires_ms, grace_ms or 0))
        entry = {
            "expires_date": iso(expires_ms),
            "grace_period_expires_date": iso(grace_ms),
            "product_identifier": product,
            "purchase_date": iso(bought),
        }
        for key in keys:
            if key not in best or rank > best[key][0]:
                best[key] = (rank, entry)

    for product, sub in customer.subscriptions.items():
        keys = sorted(set(sub.entitlement_ids) | set(catalog.entitlement_keys_for_store_product(product)))
        offer(keys, sub.expires_ms, sub.grace_period_expires_ms, product, sub.purchase_ms)
    for product, purchases in customer.non_subscriptions.items():
        for purchase in purchases:
            keys = sorted(
                set(purchase.entitlement_ids) | set(catalog.entitlement_keys_for_store_product(product))
            )
            offer(keys, None, None, product, purchase.purchase_ms)
    return {key: entry for key, (_, entry) in sorted(best.items())}


def render_customer_info(customer: Customer, catalog: ProjectCatalog, is_sandbox: bool) -> dict[str, Any]:
    request_ms = now_ms()
    active = [s for s in customer.subscriptions.values() if s.expires_ms > request_ms]
    latest = max(active, key=lambda s: s.expires_ms, default=None)
    return {
        "request_date": iso(request_ms),
        "request_date_ms": request_ms,
        "subscriber": {
            "entitlements": _entitlements(customer, catalog),
            "first_seen": iso(customer.first_seen_ms),
            "last_seen": iso(customer.last_seen_ms or customer.first_seen_ms),
            "management_url": MANAGEMENT_URLS.get(latest.store) if latest else None,
            "non_subscriptions": {
                product: [p.render(is_sandbox) for p in purchases]
                for product, purchases in customer.non_subscriptions.items()
                if purchases
            },
            "original_app_user_id": customer.original_app_user_id,
            "original_application_version": None,
            "original_purchase_date": None,
            "other_purchases": {},
            "subscriber_attributes": customer.attributes,
            "subscriptions": {
                product: sub.render(is_sandbox) for product, sub in customer.subscriptions.items()
            },
        },
    }
