"""Checks a whole catalog (bundles included) and derives what authors may leave out.

A bundle's price, provider prices and features default to its children's (prices summed,
features united); a bundle may contain bundles, but never itself, an unknown pack or, while
active, an inactive one.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.catalog.errors import CatalogIssue
from shared.catalog.gating import enabled_features
from shared.catalog.model import PackSpec
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider


@dataclass(frozen=True)
class ResolvedListing:
    provider: Provider
    product_id: str
    price: int
    currency: str
    own_price: bool
    children_price: int | None = None


@dataclass(frozen=True)
class ResolvedPack:
    """A pack with every derived value filled in: what is stored and sold."""

    spec: PackSpec
    price: int
    currency: str
    own_price: bool
    features: list[str]  # for a bundle: what its children grant
    listings: dict[Provider, ResolvedListing]
    leaves: list[str] = field(default_factory=list)  # for a bundle: the plain packs it grants
    children_price: int | None = None

    @property
    def slug(self) -> str:
        return self.spec.slug

    @property
    def granted_features(self) -> list[str]:
        """What owning the pack grants: its features minus those its flags switch off."""
        return enabled_features(self.features, self.spec.feature_flags)


@dataclass(frozen=True)
class Priced:
    amount: int
    currency: str


def spec_issues(spec: PackSpec) -> list[CatalogIssue]:
    """Problems within one pack (fields that depend on each other)."""
    issues: list[CatalogIssue] = []

    def issue(path: tuple[str | int, ...], message: str) -> None:
        issues.append(CatalogIssue(path, message, slug=spec.slug))

    if spec.billing_kind is BillingKind.SUBSCRIPTION and spec.billing_period is None:
        issue(("billing_period",), "a subscription needs a billing period (ISO 8601, e.g. P1M)")
    if spec.is_bundle:
        if spec.features:
            issue(("features",), "a bundle's features are its children's; list them on the child packs")
        if len(spec.bundle) < 2:
            issue(("bundle",), "a bundle needs at least two child packs")
        for index, child in enumerate(spec.bundle):
            if child == spec.slug:
                issue(("bundle", index), "a bundle cannot contain itself")
    elif spec.price is None:
        issue(("price",), "required (only a bundle may leave its price to its children)")
    for provider, listing in spec.providers.items():
        if listing.price is not None and listing.currency is None:
            issue(("providers", provider.value, "currency"), "required when a price is set")
        if not spec.is_bundle and listing.price is None:
            issue(("providers", provider.value, "price"), "required (only a bundle may derive it)")
    return issues


def graph_issues(specs: Mapping[str, PackSpec]) -> list[CatalogIssue]:
    """Bundles naming unknown or inactive packs, bundle cycles, provider products sold twice."""
    issues: list[CatalogIssue] = []
    for spec in specs.values():
        for index, child in enumerate(spec.bundle):
            if child == spec.slug:
                continue
            if child not in specs:
                issues.append(CatalogIssue(("bundle", index), f"no pack {child!r} in the catalog", spec.slug))
            elif spec.active and not specs[child].active:
                message = f"pack {child!r} is inactive; an active bundle cannot contain it"
                issues.append(CatalogIssue(("bundle", index), message, spec.slug))
    issues += _cycle_issues(specs)
    owners: dict[tuple[Provider, str], str] = {}
    for spec in specs.values():
        for provider, listing in spec.providers.items():
            owner = owners.setdefault((provider, listing.product_id), spec.slug)
            if owner != spec.slug:
                message = f"{provider.value} product {listing.product_id!r} is already sold as pack {owner!r}"
                issues.append(CatalogIssue(("providers", provider.value, "product_id"), message, spec.slug))
    return issues


def _cycle_issues(specs: Mapping[str, PackSpec]) -> list[CatalogIssue]:
    issues: list[CatalogIssue] = []
    done: set[str] = set()

    def visit(slug: str, path: list[str]) -> None:
        if slug in path:
            cycle = [*path[path.index(slug) :], slug]
            issues.append(CatalogIssue(("bundle",), "bundle cycle: " + " → ".join(cycle), slug))
            return
        if slug in done or slug not in specs:
            return
        for child in specs[slug].bundle:
            if child != slug:
                visit(child, [*path, slug])
        done.add(slug)

    for slug in specs:
        visit(slug, [])
    return issues


def resolve_catalog(specs: Mapping[str, PackSpec]) -> tuple[dict[str, ResolvedPack], list[CatalogIssue]]:
    """Every pack that could be resolved, and every problem found (an empty list: all is well)."""
    issues = [issue for spec in specs.values() for issue in spec_issues(spec)] + graph_issues(specs)
    broken = {issue.slug for issue in issues}
    resolver = _Resolver(specs, broken)
    resolved = {slug: pack for slug in specs if (pack := resolver.pack(slug)) is not None}
    return resolved, issues + resolver.issues


class _Resolver:
    """Memoised derivation of bundle prices and features, children first."""

    def __init__(self, specs: Mapping[str, PackSpec], broken: set[str | None]) -> None:
        self._specs = specs
        self._broken = broken
        self._done: dict[str, ResolvedPack | None] = {}
        self.issues: list[CatalogIssue] = []

    def pack(self, slug: str) -> ResolvedPack | None:
        if slug not in self._done:
            self._done[slug] = None  # guards against cycles that were already reported
            self._done[slug] = self._resolve(slug)
        return self._done[slug]

    def _resolve(self, slug: str) -> ResolvedPack | None:
        spec = self._specs.get(slug)
        if spec is None or slug in self._broken:
            return None
        return self._bundle(spec) if spec.is_bundle else self._plain(spec)

    @staticmethod
    def _plain(spec: PackSpec) -> ResolvedPack:
        assert spec.price is not None  # spec_issues reported it otherwise
        listings = {
            p: ResolvedListing(p, lst.product_id, lst.price or 0, lst.currency or spec.currency, True)
            for p, lst in spec.providers.items()
        }
        return ResolvedPack(spec, spec.price, spec.currency, True, list(spec.features), listings)

    def _bundle(self, spec: PackSpec) -> ResolvedPack | None:
        children = [self.pack(child) for child in spec.bundle]
        if any(child is None for child in children):
            return None  # the child's own problem is reported already
        kids = [child for child in children if child is not None]
        prices = [Priced(kid.price, kid.currency) for kid in kids]
        total = self._sum(spec, ("price",), prices, report=spec.price is None)
        if spec.price is not None:
            price = Priced(spec.price, spec.currency)
        elif total is None:
            return None
        elif "currency" in spec.model_fields_set and spec.currency != total.currency:
            self._issue(spec, ("currency",), f"the children are priced in {total.currency}")
            return None
        else:
            price = total
        listings: dict[Provider, ResolvedListing] = {}
        for provider in spec.providers:
            listing = self._bundle_listing(spec, provider, kids)
            if listing is None:
                return None
            listings[provider] = listing
        leaves = list(dict.fromkeys(leaf for kid in kids for leaf in (kid.leaves or [kid.slug])))
        features = list(dict.fromkeys(f for kid in kids for f in kid.granted_features))
        return ResolvedPack(
            spec,
            price.amount,
            price.currency,
            spec.price is not None,
            features,
            listings,
            leaves,
            total.amount if total is not None and total.currency == price.currency else None,
        )

    def _bundle_listing(
        self, spec: PackSpec, provider: Provider, kids: list[ResolvedPack]
    ) -> ResolvedListing | None:
        own = spec.providers[provider]
        path = ("providers", provider.value, "price")
        missing = [kid.slug for kid in kids if provider not in kid.listings]
        total = None
        if not missing:
            prices = [Priced(kid.listings[provider].price, kid.listings[provider].currency) for kid in kids]
            total = self._sum(spec, path, prices, report=own.price is None)
        if own.price is not None:
            currency = own.currency or spec.currency
            children_price = total.amount if total is not None and total.currency == currency else None
            return ResolvedListing(provider, own.product_id, own.price, currency, True, children_price)
        if missing:
            names = ", ".join(repr(m) for m in missing)
            self._issue(spec, path, f"set a price: {names} not sold at {provider.value}")
            return None
        if total is None:
            return None
        if own.currency is not None and own.currency != total.currency:
            message = f"the children are in {total.currency}"
            self._issue(spec, ("providers", provider.value, "currency"), message)
            return None
        return ResolvedListing(provider, own.product_id, total.amount, total.currency, False, total.amount)

    def _sum(
        self, spec: PackSpec, path: tuple[str | int, ...], prices: list[Priced], *, report: bool = True
    ) -> Priced | None:
        currencies = sorted({p.currency for p in prices})
        if len(currencies) != 1:
            if report:
                self._issue(spec, path, f"children are priced in {', '.join(currencies)}; set the price")
            return None
        return Priced(sum(p.amount for p in prices), currencies[0])

    def _issue(self, spec: PackSpec, path: tuple[str | int, ...], message: str) -> None:
        self.issues.append(CatalogIssue(path, message, spec.slug))
