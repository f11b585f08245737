"""A pack as a page shows it: the ``GET /v1/packs`` view (same code, same gating) plus readable prices."""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx
import structlog

from services.gateway.pack_views import pack_view
from services.marketplace.money import native_text, price_lines
from shared.connectors.lightning.pricing.oracle import PriceOracle
from shared.db.catalog_state import StoredPack
from shared.domain.errors import ProviderError

log = structlog.get_logger(__name__)
# The catalog's ``visuals.icon`` names, drawn as emoji so pages need no icon font.
ICONS = {
    "shirt": "👕",
    "sofa": "🛋️",
    "sparkles": "✨",
    "palette": "🎨",
    "sun": "☀️",
    "home": "🏠",
    "lamp": "💡",
}
PROVIDER_NAMES = {"revenuecat": "Card / app store", "lightning": "Lightning"}


def active_views(catalog: Mapping[str, StoredPack], market: str | None) -> list[dict[str, Any]]:
    """Exactly the packs ``GET /v1/packs?market=`` lists, in the same order."""
    return [pack_view(pack, catalog, market) for pack in catalog.values() if pack.row.is_active]


async def btc_rates(oracle: PriceOracle | None, views: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    """Today's BTC price in every fiat currency the views use; a rate that cannot be had is left out."""
    if oracle is None:
        return {}
    currencies = {view["default_price"]["currency"] for view in views}
    for view in views:
        currencies |= {p["price"]["currency"] for p in view["providers"].values() if p["price"]}
    rates = {currency: await btc_rate(oracle, currency) for currency in sorted(currencies - {"BTC"})}
    return {currency: rate for currency, rate in rates.items() if rate is not None}


async def btc_rate(oracle: PriceOracle | None, currency: str) -> Decimal | None:
    """Fiat per BTC now, or None when it cannot be had (prices then show only in their own unit)."""
    if oracle is None:
        return None
    try:
        return await oracle.btc_price(currency)
    except (ProviderError, httpx.HTTPError) as exc:
        log.warning("marketplace_rate_unavailable", currency=currency, error=str(exc))
        return None


def card(
    view: dict[str, Any], catalog: Mapping[str, StoredPack], rates: dict[str, Decimal]
) -> dict[str, Any]:
    """The view plus what the templates print: icon, price text per provider, bundle saving."""
    fiat_currency = view["default_price"]["currency"]
    listings = []
    for name, listing in view["providers"].items():
        entry: dict[str, Any] = {
            "provider": name,
            "label": PROVIDER_NAMES.get(name, name),
            "available": listing["available"],
            "price": price_lines(listing["price"], fiat_currency, rates) if listing["price"] else None,
            "saving": _saving(listing),
        }
        listings.append(entry)
    children = []
    if view["bundle"]:
        children = [
            {"slug": slug, "name": catalog[slug].row.display_name if slug in catalog else slug}
            for slug in view["bundle"]["children"]
        ]
    return {
        **view,
        "icon": ICONS.get(view["visuals"]["icon"] or "", "◆"),
        "listings": listings,
        "children": children,
    }


def _saving(listing: dict[str, Any]) -> dict[str, Any] | None:
    """What a bundle saves on this provider versus its children bought one by one."""
    price, children = listing["price"], listing.get("children_price")
    if not price or not children or price["currency"] != children["currency"]:
        return None
    currency, children_amount = price["currency"], int(children["amount"])
    saved = children_amount - int(price["amount"])
    return {
        "children": native_text(children_amount, currency),
        "saved": native_text(saved, currency) if saved > 0 else None,
        "percent": (Decimal(saved) * 100 / children_amount).quantize(Decimal(1)) if children_amount else 0,
    }
