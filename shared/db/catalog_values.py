"""A pack's stored values in one comparable form, built from the wanted (resolved) pack or the stored one."""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.catalog.resolve import ResolvedListing, ResolvedPack
from shared.db.catalog_state import StoredListing, StoredPack
from shared.domain.provider import Provider


@dataclass(frozen=True)
class PackValues:
    """What is stored for one pack, in a form two catalogs can be compared in."""

    columns: dict[str, Any]
    listings: dict[str, dict[str, Any]]
    bundle: dict[str, Any] | None

    def differences(self, other: "PackValues") -> list[str]:
        fields = [name for name, value in self.columns.items() if other.columns.get(name) != value]
        fields += [
            f"providers.{p}"
            for p in sorted(self.listings.keys() | other.listings.keys())
            if self.listings.get(p) != other.listings.get(p)
        ]
        if self.bundle != other.bundle:
            fields.append("bundle")
        return fields


PACK_COLUMNS = (
    "display_name",
    "description",
    "features",
    "feature_flags",
    "default_price",
    "currency",
    "billing_kind",
    "billing_period",
    "visuals",
    "is_active",
)


def resolved_values(pack: ResolvedPack) -> PackValues:
    spec = pack.spec
    columns = {
        "display_name": spec.display_name,
        "description": spec.description,
        "features": list(pack.features),
        "feature_flags": dict(spec.feature_flags),
        "default_price": pack.price,
        "currency": pack.currency,
        "billing_kind": spec.billing_kind.value,
        "billing_period": spec.billing_period,
        "visuals": spec.visuals.model_dump(exclude_none=True),
        "is_active": spec.active,
    }
    listings = _listing_values(pack.listings)
    bundle = None
    if spec.is_bundle:
        bundle = {
            "own_price": spec.price,
            "own_provider_prices": {
                p.value: {"price": lst.price, "currency": lst.currency}
                for p, lst in spec.providers.items()
                if lst.price is not None
            },
            "children": list(spec.bundle),
        }
    return PackValues(columns, listings, bundle)


def stored_values(pack: StoredPack) -> PackValues:
    # Same keys as resolved_values builds; jsonb values are copied so later edits cannot alias them.
    columns = {name: copy.deepcopy(getattr(pack.row, name)) for name in PACK_COLUMNS}
    listings = _listing_values(pack.listings)
    bundle = None
    if pack.pricing is not None:
        bundle = {
            "own_price": pack.pricing.own_price,
            "own_provider_prices": dict(pack.pricing.own_provider_prices),
            "children": list(pack.children),
        }
    return PackValues(columns, listings, bundle)


def _listing_values(
    listings: Mapping[Provider, ResolvedListing | StoredListing],
) -> dict[str, dict[str, Any]]:
    return {
        p.value: {"product_id": lst.product_id, "price": lst.price, "currency": lst.currency}
        for p, lst in listings.items()
    }
