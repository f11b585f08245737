"""The project's v2 configuration: products, entitlements (with attached products), offerings, packages."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sandboxes.revenuecat.customers import now_ms


def _id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class Product:
    id: str
    store_identifier: str
    type: str  # subscription | one_time | consumable | non_consumable
    app_id: str
    display_name: str | None
    created_at: int
    subscription: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        return {
            "object": "product",
            "id": self.id,
            "store_identifier": self.store_identifier,
            "type": self.type,
            "subscription": self.subscription,
            "created_at": self.created_at,
            "app_id": self.app_id,
            "display_name": self.display_name,
            **self.extra,
        }


@dataclass
class Entitlement:
    id: str
    project_id: str
    lookup_key: str
    display_name: str
    created_at: int
    product_ids: list[str] = field(default_factory=list)


@dataclass
class Package:
    id: str
    lookup_key: str
    display_name: str
    position: int | None
    created_at: int
    products: list[dict[str, str]] = field(default_factory=list)  # {product_id, eligibility_criteria}


@dataclass
class Offering:
    id: str
    project_id: str
    lookup_key: str
    display_name: str
    is_current: bool
    created_at: int
    metadata: dict[str, Any] = field(default_factory=dict)
    packages: list[Package] = field(default_factory=list)


class ProjectCatalog:
    def __init__(self, project_id: str, app_id: str) -> None:
        self.project_id = project_id
        self.app_id = app_id
        self.products: dict[str, Product] = {}
        self.entitlements: dict[str, Entitlement] = {}
        self.offerings: dict[str, Offering] = {}

    def add_product(self, body: dict[str, Any]) -> Product:
        product = Product(
            id=_id("prod"),
            store_identifier=str(body["store_identifier"]),
            type=str(body.get("type", "subscription")),
            app_id=str(body.get("app_id") or self.app_id),
            display_name=body.get("display_name"),
            created_at=now_ms(),
            subscription=body.get("subscription"),
            extra={k: v for k, v in body.items() if k not in Product.__dataclass_fields__},
        )
        self.products[product.id] = product
        return product

    def product_by_store_identifier(self, store_identifier: str) -> Product | None:
        return next((p for p in self.products.values() if p.store_identifier == store_identifier), None)

    def add_entitlement(self, lookup_key: str, display_name: str) -> Entitlement:
        entitlement = Entitlement(_id("entl"), self.project_id, lookup_key, display_name, now_ms())
        self.entitlements[entitlement.id] = entitlement
        return entitlement

    def entitlement_by_lookup_key(self, lookup_key: str) -> Entitlement | None:
        return next((e for e in self.entitlements.values() if e.lookup_key == lookup_key), None)

    def entitlement_keys_for_store_product(self, store_identifier: str) -> list[str]:
        """Lookup keys of the entitlements a store product unlocks (RevenueCat's product → entitlement)."""
        product = self.product_by_store_identifier(store_identifier)
        if product is None:
            return []
        return sorted(e.lookup_key for e in self.entitlements.values() if product.id in e.product_ids)

    def ensure_entitlements_for(
        self, store_identifier: str, lookup_keys: list[str], product_type: str
    ) -> None:
        """Attach a purchased store product to the named entitlements, creating what is missing."""
        product = self.product_by_store_identifier(store_identifier) or self.add_product(
            {"store_identifier": store_identifier, "type": product_type}
        )
        for key in lookup_keys:
            entitlement = self.entitlement_by_lookup_key(key) or self.add_entitlement(key, key)
            if product.id not in entitlement.product_ids:
                entitlement.product_ids.append(product.id)

    def add_offering(self, body: dict[str, Any]) -> Offering:
        offering = Offering(
            id=_id("ofrng"),
            project_id=self.project_id,
            lookup_key=str(body["lookup_key"]),
            display_name=str(body.get("display_name") or body["lookup_key"]),
            is_current=not self.offerings,
            created_at=now_ms(),
            metadata=dict(body.get("metadata") or {}),
        )
        self.offerings[offering.id] = offering
        return offering

    def render_entitlement(self, entitlement: Entitlement, expand: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "object": "entitlement",
            "id": entitlement.id,
            "project_id": entitlement.project_id,
            "lookup_key": entitlement.lookup_key,
            "display_name": entitlement.display_name,
            "created_at": entitlement.created_at,
        }
        if expand:
            items = [self.products[p].render() for p in entitlement.product_ids if p in self.products]
            body["products"] = {"object": "list", "items": items, "next_page": None}
        return body

    def render_package(self, package: Package) -> dict[str, Any]:
        return {
            "object": "package",
            "id": package.id,
            "lookup_key": package.lookup_key,
            "display_name": package.display_name,
            "position": package.position,
            "created_at": package.created_at,
            "products": {
                "object": "list",
                "items": [
                    {
                        "product": self.products[p["product_id"]].render(),
                        "eligibility_criteria": p["eligibility"],
                    }
                    for p in package.products
                    if p["product_id"] in self.products
                ],
                "next_page": None,
            },
        }

    def render_offering(self, offering: Offering, expand: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "object": "offering",
            "id": offering.id,
            "project_id": offering.project_id,
            "lookup_key": offering.lookup_key,
            "display_name": offering.display_name,
            "is_current": offering.is_current,
            "created_at": offering.created_at,
            "metadata": offering.metadata,
        }
        if expand:
            packages = [self.render_package(p) for p in offering.packages]
            body["packages"] = {"object": "list", "items": packages, "next_page": None}
        return body

    def add_package(self, offering: Offering, body: dict[str, Any]) -> Package:
        package = Package(
            id=_id("pkge"),
            lookup_key=str(body["lookup_key"]),
            display_name=str(body.get("display_name") or body["lookup_key"]),
            position=body.get("position"),
            created_at=now_ms(),
        )
        offering.packages.append(package)
        return package

    def find_package(self, package_id: str) -> Package | None:
        for offering in self.offerings.values():
            for package in offering.packages:
                if package.id == package_id:
                    return package
        return None
