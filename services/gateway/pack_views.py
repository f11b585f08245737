"""The public shape of a pack (``GET /v1/packs``): the seed's ``MicroSaasPack`` fields, then ours —
prices per provider, where it is sold, bundle contents, visuals."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.gating import enabled_features, sale_decision
from shared.db.catalog_state import StoredPack
from shared.domain.model import SeedShape
from shared.domain.provider import Provider


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: int = Field(description="integer minor units of currency (cents; msat for BTC)")
    currency: str


class ListingView(BaseModel):
    model_config = ConfigDict(frozen=True)

    available: bool
    product_id: str | None
    price: Money | None


class BundleListingView(ListingView):
    children_price: Money | None = Field(description="the children's prices here, summed")


class BundleView(BaseModel):
    model_config = ConfigDict(frozen=True)

    children: list[str]
    children_price: Money | None
    price_is_own: bool


class BillingView(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    period: str | None


class PackView(SeedShape):
    """A pack as sold: the seed's ``MicroSaasPack`` (camelCase) and our fields (snake_case).

    ``price`` is the pack's price in integer minor units of ``currency`` (499 = USD 4.99), as the
    catalog stores it; ``default_price`` is the same as ``{amount, currency}`` (what ``price`` held
    before the seed's shape).
    """

    todays_names = {"display_name": "displayName"}

    id: UUID
    slug: str
    display_name: str = Field(alias="displayName")
    description: str
    features: list[str] = Field(description="the features the pack grants (feature flags applied)")
    price: int = Field(ge=0, description="integer minor units of currency")
    currency: str
    provider_skus: dict[str, str | None] = Field(alias="providerSkus", description="product id per provider")
    feature_flags: dict[str, bool | int] = Field(description="rollout.* flags hold percentages")
    billing: BillingView
    default_price: Money
    visuals: dict[str, str | None]
    active: bool
    bundle: BundleView | None
    providers: dict[str, BundleListingView | ListingView]


def pack_view(
    pack: StoredPack, catalog: Mapping[str, StoredPack], market: str | None, user_id: str | None = None
) -> dict[str, Any]:
    """The pack as served (JSON-ready)."""
    return pack_model(pack, catalog, market, user_id).model_dump(mode="json")


def pack_model(
    pack: StoredPack, catalog: Mapping[str, StoredPack], market: str | None, user_id: str | None = None
) -> PackView:
    """The pack as ``user_id`` (None: anyone) sees it in ``market`` (None: unknown)."""
    row = pack.row
    visuals = dict(row.visuals)
    return PackView(
        id=row.id,
        slug=row.slug,
        display_name=row.display_name,
        description=row.description,
        features=enabled_features(row.features, row.feature_flags),
        price=row.default_price,
        currency=row.currency,
        provider_skus={
            provider.value: listing.product_id if (listing := pack.listings.get(provider)) else None
            for provider in Provider
        },
        feature_flags=dict(sorted(row.feature_flags.items())),
        billing=BillingView(kind=row.billing_kind, period=row.billing_period),
        default_price=Money(amount=row.default_price, currency=row.currency),
        visuals={key: visuals.get(key) for key in ("image_url", "color", "icon")},
        active=row.is_active,
        bundle=_bundle_view(pack, catalog),
        providers={
            provider.value: _listing_view(pack, provider, catalog, market, user_id) for provider in Provider
        },
    )


def _listing_view(
    pack: StoredPack,
    provider: Provider,
    catalog: Mapping[str, StoredPack],
    market: str | None,
    user_id: str | None,
) -> ListingView | BundleListingView:
    listing = pack.listings.get(provider)
    if listing is None:
        return ListingView(available=False, product_id=None, price=None)
    view = ListingView(
        available=pack.row.is_active
        and sale_decision(pack.row.feature_flags, provider, market, user_id).allowed,
        product_id=listing.product_id,
        price=Money(amount=listing.price, currency=listing.currency),
    )
    if not pack.is_bundle:
        return view
    children = [catalog[slug].listings.get(provider) for slug in pack.children if slug in catalog]
    prices = [(c.price, c.currency) for c in children if c is not None]
    children_price = _sum(prices) if len(prices) == len(pack.children) else None
    return BundleListingView(**dict(view), children_price=children_price)


def _bundle_view(pack: StoredPack, catalog: Mapping[str, StoredPack]) -> BundleView | None:
    """Both prices of a bundle: what it costs, and what its children cost together."""
    if pack.pricing is None:
        return None
    children = [catalog[slug].row for slug in pack.children if slug in catalog]
    return BundleView(
        children=list(pack.children),
        children_price=_sum([(child.default_price, child.currency) for child in children]),
        price_is_own=pack.pricing.own_price is not None,
    )


def _sum(prices: list[tuple[int, str]]) -> Money | None:
    currencies = {currency for _, currency in prices}
    if len(currencies) != 1:
        return None
    return Money(amount=sum(amount for amount, _ in prices), currency=currencies.pop())
