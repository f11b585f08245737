"""Fiat minor units ↔ millisatoshis, in Decimal and integers only."""

from decimal import ROUND_CEILING, Decimal

MSAT_PER_BTC = 100_000_000_000
# ISO 4217 minor-unit exponents that are not 2.
_EXPONENTS = {
    "BHD": 3,
    "CLP": 0,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
    "VND": 0,
}


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def fiat_minor_to_msat(amount_minor: int, currency: str, btc_price: Decimal) -> int:
    """Millisatoshis for ``amount_minor`` at ``btc_price`` (fiat per BTC), rounded up to whole msat."""
    if btc_price <= 0:
        raise ValueError(f"BTC price must be positive, got {btc_price}")
    fiat = Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))
    return int((fiat * MSAT_PER_BTC / btc_price).to_integral_value(rounding=ROUND_CEILING))


def round_up_to_sat(amount_msat: int) -> int:
    """Providers that price in whole satoshis get the next whole satoshi, never less than asked."""
    return -(-amount_msat // 1000) * 1000
