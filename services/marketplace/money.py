"""How prices read on a page: integer minor units and millisatoshis to text, in Decimal only."""

from decimal import Decimal
from typing import Any

from shared.connectors.lightning.pricing.conversion import (
    MSAT_PER_BTC,
    fiat_minor_to_msat,
    minor_unit_exponent,
    round_up_to_sat,
)

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
MSAT_PER_SAT = 1000


def fiat_text(amount_minor: int, currency: str) -> str:
    """``$4.99``, ``12.50 CHF``: symbol first where one is usual, the code after otherwise."""
    exponent = minor_unit_exponent(currency)
    value = Decimal(amount_minor).scaleb(-exponent)
    number = f"{value:,.{exponent}f}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"


def sats_text(amount_msat: int) -> str:
    """Whole satoshis (``19,900 sats``), with the millisatoshi fraction only when there is one."""
    sats = Decimal(amount_msat) / MSAT_PER_SAT
    text = f"{sats:,.0f}" if amount_msat % MSAT_PER_SAT == 0 else f"{sats:,.3f}"
    return f"{text} sats"


def msat_to_fiat_minor(amount_msat: int, currency: str, btc_price: Decimal) -> int:
    """The fiat value of ``amount_msat`` at ``btc_price`` (fiat per BTC), rounded to the minor unit."""
    fiat = Decimal(amount_msat) * btc_price / MSAT_PER_BTC
    return int(fiat.scaleb(minor_unit_exponent(currency)).to_integral_value())


def price_lines(
    price: dict[str, Any], fiat_currency: str, rates: dict[str, Decimal]
) -> dict[str, str | None]:
    """A listing's price as fiat and sats text; the side not priced natively comes from today's rate."""
    amount, currency = int(price["amount"]), str(price["currency"])
    if currency == "BTC":
        rate = rates.get(fiat_currency)
        fiat = fiat_text(msat_to_fiat_minor(amount, fiat_currency, rate), fiat_currency) if rate else None
        return {"fiat": fiat, "sats": sats_text(amount), "native": "sats"}
    rate = rates.get(currency)
    sats = sats_text(round_up_to_sat(fiat_minor_to_msat(amount, currency, rate))) if rate else None
    return {"fiat": fiat_text(amount, currency), "sats": sats, "native": "fiat"}


def native_text(amount: int, currency: str) -> str:
    """An amount in its own unit: sats for BTC (priced in msat), else the fiat currency."""
    return sats_text(amount) if currency == "BTC" else fiat_text(amount, currency)
