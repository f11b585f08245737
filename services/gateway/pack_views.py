"""The public shape of a pack (``GET /v1/packs``): prices per provider and where it is sold."""

from collections.abc import Mapping
from typing import Any

from shared.catalog.gating import available_at, enabled_features
from shared.db.catalog_state import StoredPack
from shared.domain.provider import Provider


def pack_view(pack: StoredPack, catalog: Mapping[str, StoredPack], market: str | None) -> dict[str, Any]:
    row = pack.row
    visuals = dict(row.visuals)
    return {
        "id": str(row.id),
        "slug": row.slug,
        "display_name": row.display_name,
        "description": row.description,
        "features": enabled_features(row.features, row.feature_flags),
        "feature_flags": dict(sorted(row.feature_flags.items())),
        "billing": {"kind": row.billing_kind, "period": row.billing_period},
        "price": _money(row.default_price, row.currency),
        "visuals": {key: visuals.get(key) for key in ("image_url", "color", "icon")},
        "active": row.is_active,
        "bundle": _bundle_view(pack, catalog),
        "providers": {
            provider.value: _listing_view(pack, provider, catalog, market) for provider in Provider
        },
    }


def _listing_view(
    pack: StoredPack, provider: Provider, catalog: Mapping[str, StoredPack], market: str | None
) -> dict[str, Any]:
    listing = pack.listings.get(provider)
    if listing is None:
        return {"available": False, "product_id": None, "price": None}
    view: dict[str, Any] = {
        "available": pack.row.is_active and available_at(pack.row.feature_flags, provider, market),
        "product_id": listing.product_id,
        "price": _money(listing.price, listing.currency),
    }
    if pack.is_bundle:
        children = [catalog[slug].listings.get(provider) for slug in pack.children if slug in catalog]
        prices = [(c.price, c.currency) for c in children if c is not None]
        view["children_price"] = _sum(prices) if len(prices) == len(pack.children) else None
    return view


def _bundle_view(pack: StoredPack, catalog: Mapping[str, StoredPack]) -> dict[str, Any] | None:
    """Both prices of a bundle: what it costs, and what its children cost together."""
    if pack.pricing is None:
        return None
    children = [catalog[slug].row for slug in pack.children if slug in catalog]
    return {
        "children": list(pack.children),
        "children_price": _sum([(child.default_price, child.currency) for child in children]),
        "price_is_own": pack.pricing.own_price is not None,
    }


def _sum(prices: list[tuple[int, str]]) -> dict[str, Any] | None:
    currencies = {currency for _, currency in prices}
    if len(currencies) != 1:
        return None
    return _money(sum(amount for amount, _ in prices), currencies.pop())


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}
