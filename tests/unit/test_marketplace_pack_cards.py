"""A pack card is built from the ``GET /v1/packs`` view itself, so a change of that shape shows up here."""

import uuid
from decimal import Decimal

from services.gateway.pack_views import pack_view
from services.marketplace.pack_cards import card
from shared.db.catalog_state import StoredListing, StoredPack
from shared.db.models import BillingCatalog
from shared.domain.provider import Provider


def _stored(lightning_market_de: bool) -> StoredPack:
    flags = {} if lightning_market_de else {"provider.lightning.market.DE": False}
    row = BillingCatalog(
        id=uuid.uuid4(),
        slug="colour-match",
        display_name="Colour Match",
        description="Match colours.",
        feature_flags=flags,
        features=["color.match"],
        default_price=199,
        currency="USD",
        billing_kind="one_time",
        billing_period=None,
        visuals={"color": "#10B981", "icon": "palette"},
        is_active=True,
    )
    listings = {
        Provider.REVENUECAT: StoredListing(Provider.REVENUECAT, "rc.colour", 199, "USD", {}),
        Provider.LIGHTNING: StoredListing(Provider.LIGHTNING, "ln.colour", 19_900_000, "BTC", {}),
    }
    return StoredPack(row=row, listings=listings, children=[], pricing=None, catalog_name=None)


def test_card_shows_each_providers_price_and_the_views_availability() -> None:
    pack = _stored(lightning_market_de=False)
    view = pack_view(pack, {pack.row.slug: pack}, "DE")
    shown = card(view, {pack.row.slug: pack}, {"USD": Decimal("65000")})
    listings = {listing["provider"]: listing for listing in shown["listings"]}
    assert listings["revenuecat"]["available"] is True and listings["lightning"]["available"] is False
    assert listings["revenuecat"]["price"] == {"fiat": "$1.99", "sats": "3,062 sats", "native": "fiat"}
    assert listings["lightning"]["price"] == {"fiat": "$12.94", "sats": "19,900 sats", "native": "sats"}
    assert shown["icon"] == "🎨" and shown["display_name"] == "Colour Match"
