"""Our catalog at RevenueCat (API v2): per pack a product, an entitlement and an offering.

Each pack sold on RevenueCat becomes a product (``store_identifier`` = our product id), an
entitlement (``lookup_key`` = the pack's slug, the key CustomerInfo reports) with that product
attached, and an offering (``lookup_key`` = slug, metadata = features, price, visuals) with one
package holding the product. RevenueCat keeps no prices of its own (the stores do), so prices
travel in the offering's metadata. A pack no longer sold has its product archived, never deleted.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.catalog.provider_catalog import Divergence, Repair, WantedListing
from shared.connectors.revenuecat.client import RevenueCatClient
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider

# RevenueCat's standard package identifiers for the periods we sell; anything else is custom.
PACKAGE_KEYS = {"P1W": "$rc_weekly", "P1M": "$rc_monthly", "P2M": "$rc_two_month", "P3M": "$rc_three_month"}
PACKAGE_KEYS |= {"P6M": "$rc_six_month", "P1Y": "$rc_annual", "P12M": "$rc_annual"}


def package_key(wanted: WantedListing) -> str:
    if wanted.billing_kind is BillingKind.ONE_TIME:
        return "$rc_lifetime"
    return PACKAGE_KEYS.get(wanted.billing_period or "", f"$rc_custom_{wanted.slug}")


def product_fields(wanted: WantedListing) -> dict[str, Any]:
    """The product as RevenueCat should hold it."""
    fields: dict[str, Any] = {"display_name": wanted.display_name, "type": wanted.billing_kind.value}
    if wanted.billing_kind is BillingKind.SUBSCRIPTION:
        fields["subscription"] = {"duration": wanted.billing_period}
    return fields


def offering_metadata(wanted: WantedListing) -> dict[str, Any]:
    return {
        "pack_slug": wanted.slug,
        "description": wanted.description,
        "features": list(wanted.features),
        "price": {"amount": wanted.price, "currency": wanted.currency},
        "visuals": dict(wanted.visuals),
    }


@dataclass
class _Snapshot:
    products: dict[str, dict[str, Any]]  # by store_identifier
    entitlements: dict[str, dict[str, Any]]  # by lookup_key, products expanded
    offerings: dict[str, dict[str, Any]]  # by lookup_key, packages and their products expanded


def _items(listing: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((listing or {}).get("items") or [])


class RevenueCatCatalog:
    provider = Provider.REVENUECAT

    def __init__(self, client: RevenueCatClient, app_id: str = "") -> None:
        self._client = client
        self._app_id = app_id
        self._snapshot = _Snapshot({}, {}, {})

    async def divergences(self, wanted: Sequence[WantedListing]) -> list[Divergence]:
        products = await self._client.list_v2("products")
        entitlements = await self._client.list_v2("entitlements", {"expand": "items.product"})
        offerings = await self._client.list_v2("offerings", {"expand": "items.package.product"})
        self._snapshot = _Snapshot(
            {p["store_identifier"]: p for p in products},
            {e["lookup_key"]: e for e in entitlements},
            {o["lookup_key"]: o for o in offerings},
        )
        found = [
            Divergence(w.product_id, problems, slug=w.slug) for w in wanted if (problems := self._problems(w))
        ]
        ours = {w.product_id for w in wanted}
        found += [
            Divergence(
                store_id, ["sold at RevenueCat, but no pack of ours is this product"], repairable=False
            )
            for store_id, product in self._snapshot.products.items()
            if store_id not in ours and product.get("state") != "archived"
        ]
        return found

    def learned_ids(self) -> dict[str, dict[str, Any]]:
        ids: dict[str, dict[str, Any]] = {}
        for store_id, product in self._snapshot.products.items():
            ids[store_id] = {"rc_product_id": product["id"]}
            for slug, entitlement in self._snapshot.entitlements.items():
                if product["id"] in {p["id"] for p in _items(entitlement.get("products"))}:
                    ids[store_id] |= {"entitlement_lookup_key": slug, "rc_entitlement_id": entitlement["id"]}
        return ids

    def _problems(self, wanted: WantedListing) -> list[str]:
        product = self._snapshot.products.get(wanted.product_id)
        if product is None:
            return ["product missing"] if wanted.sell else []
        problems = [
            f"product {name}: ours {value!r}, RevenueCat's {product.get(name)!r}"
            for name, value in product_fields(wanted).items()
            if product.get(name) != value
        ]
        archived = product.get("state") == "archived"
        if not wanted.sell:
            return ["sold at RevenueCat, but the pack is not sold there"] if not archived else []
        if archived:
            problems.append("product archived")
        entitlement = self._snapshot.entitlements.get(wanted.slug)
        if entitlement is None:
            problems.append(f"entitlement {wanted.slug!r} missing")
        else:
            if entitlement.get("display_name") != wanted.display_name:
                problems.append(f"entitlement display_name: ours {wanted.display_name!r}")
            if product["id"] not in {p["id"] for p in _items(entitlement.get("products"))}:
                problems.append("product not attached to the entitlement")
        problems += self._offering_problems(wanted, product["id"])
        return problems

    def _offering_problems(self, wanted: WantedListing, product_id: str) -> list[str]:
        offering = self._snapshot.offerings.get(wanted.slug)
        if offering is None:
            return [f"offering {wanted.slug!r} missing"]
        problems = []
        if offering.get("metadata") != offering_metadata(wanted):
            problems.append("offering metadata (features, price, visuals) differs")
        package = self._package(offering, package_key(wanted))
        if package is None:
            problems.append(f"package {package_key(wanted)!r} missing")
        elif product_id not in {i["product"]["id"] for i in _items(package.get("products"))}:
            problems.append("product not in the offering's package")
        return problems

    @staticmethod
    def _package(offering: dict[str, Any], lookup_key: str) -> dict[str, Any] | None:
        packages = _items(offering.get("packages"))
        return next((p for p in packages if p.get("lookup_key") == lookup_key), None)

    async def repair(self, divergence: Divergence, wanted: WantedListing) -> Repair:
        actions: list[str] = []
        product = await self._ensure_product(wanted, actions)
        ids: dict[str, Any] = {"rc_product_id": product["id"]}
        if not wanted.sell:
            return Repair(actions, ids)
        entitlement = await self._ensure_entitlement(wanted, product["id"], actions)
        offering, package = await self._ensure_offering(wanted, product["id"], actions)
        ids |= {
            "entitlement_lookup_key": wanted.slug,
            "rc_entitlement_id": entitlement["id"],
            "rc_offering_id": offering["id"],
            "rc_package_id": package["id"],
        }
        return Repair(actions, ids)

    async def _ensure_product(self, wanted: WantedListing, actions: list[str]) -> dict[str, Any]:
        fields = product_fields(wanted)
        product = self._snapshot.products.get(wanted.product_id)
        if product is None:
            body = {"store_identifier": wanted.product_id, **fields}
            if self._app_id:
                body["app_id"] = self._app_id
            product = await self._client.post_v2("products", body)
            self._snapshot.products[wanted.product_id] = product
            actions.append("created product")
            return product
        changed = {name: value for name, value in fields.items() if product.get(name) != value}
        if changed:
            product = await self._client.post_v2(f"products/{product['id']}", changed)
            actions.append(f"updated product {', '.join(sorted(changed))}")
        archived = product.get("state") == "archived"
        if archived == wanted.sell:
            action = "unarchive" if wanted.sell else "archive"
            product = await self._client.post_v2(f"products/{product['id']}/actions/{action}", {})
            actions.append(f"{action}d product")
        return product

    async def _ensure_entitlement(
        self, wanted: WantedListing, product_id: str, actions: list[str]
    ) -> dict[str, Any]:
        entitlement = self._snapshot.entitlements.get(wanted.slug)
        if entitlement is None:
            body = {"lookup_key": wanted.slug, "display_name": wanted.display_name}
            entitlement = await self._client.post_v2("entitlements", body)
            actions.append("created entitlement")
        elif entitlement.get("display_name") != wanted.display_name:
            body = {"display_name": wanted.display_name}
            entitlement = await self._client.post_v2(f"entitlements/{entitlement['id']}", body)
            actions.append("updated entitlement display_name")
        if product_id not in {p["id"] for p in _items(entitlement.get("products"))}:
            path = f"entitlements/{entitlement['id']}/actions/attach_products"
            entitlement = await self._client.post_v2(path, {"product_ids": [product_id]})
            actions.append("attached product to entitlement")
        return entitlement

    async def _ensure_offering(
        self, wanted: WantedListing, product_id: str, actions: list[str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        offering = self._snapshot.offerings.get(wanted.slug)
        metadata = offering_metadata(wanted)
        if offering is None:
            body = {"lookup_key": wanted.slug, "display_name": wanted.display_name, "metadata": metadata}
            offering = await self._client.post_v2("offerings", body)
            actions.append("created offering")
        elif offering.get("metadata") != metadata:
            offering = {
                **offering,
                **await self._client.post_v2(f"offerings/{offering['id']}", {"metadata": metadata}),
            }
            actions.append("updated offering metadata")
        key = package_key(wanted)
        package = self._package(offering, key)
        if package is None:
            body = {"lookup_key": key, "display_name": wanted.display_name}
            package = await self._client.post_v2(f"offerings/{offering['id']}/packages", body)
            actions.append("created package")
        if product_id not in {i["product"]["id"] for i in _items(package.get("products"))}:
            attach = {"products": [{"product_id": product_id, "eligibility_criteria": "all"}]}
            package = await self._client.post_v2(f"packages/{package['id']}/actions/attach_products", attach)
            actions.append("attached product to package")
        return offering, package
