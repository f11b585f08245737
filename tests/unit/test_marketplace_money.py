"""Prices as the marketplace prints them: minor units and msat, converted in Decimal only."""

from decimal import Decimal

from services.marketplace.money import fiat_text, msat_to_fiat_minor, native_text, price_lines, sats_text


def test_fiat_keeps_its_minor_unit_exponent() -> None:
    assert fiat_text(499, "USD") == "$4.99"
    assert fiat_text(123456, "EUR") == "€1,234.56"
    assert fiat_text(500, "JPY") == "¥500"
    assert fiat_text(1250, "CHF") == "12.50 CHF"


def test_sats_are_whole_unless_the_msat_say_otherwise() -> None:
    assert sats_text(19_900_000) == "19,900 sats"
    assert sats_text(1_500) == "1.500 sats"
    assert native_text(19_900_000, "BTC") == "19,900 sats" and native_text(199, "USD") == "$1.99"


def test_a_fiat_price_shows_whole_sats_at_the_rate_rounded_up() -> None:
    lines = price_lines({"amount": 499, "currency": "USD"}, "USD", {"USD": Decimal("65000")})
    # 4.99 USD at 65,000 USD/BTC = 7,676.92… sats, shown as the next whole sat.
    assert lines == {"fiat": "$4.99", "sats": "7,677 sats", "native": "fiat"}


def test_a_btc_price_shows_its_fiat_value_and_no_rate_means_no_guess() -> None:
    assert msat_to_fiat_minor(19_900_000, "USD", Decimal("65000")) == 1294
    assert price_lines({"amount": 19_900_000, "currency": "BTC"}, "USD", {})["fiat"] is None
