"""BTC amounts as BTCPay writes them (decimal strings, 8 places) and their msat equivalents."""

from decimal import ROUND_CEILING, Decimal

MSAT_PER_BTC = 100_000_000_000
SAT = Decimal("0.00000001")


def btc_to_msat(btc: Decimal) -> int:
    return int((btc * MSAT_PER_BTC).to_integral_value(rounding=ROUND_CEILING))


def msat_to_btc(msat: int) -> Decimal:
    """Whole satoshis, rounded up: BTCPay prices Lightning in BTC with 8 decimals."""
    return (Decimal(msat) / MSAT_PER_BTC).quantize(SAT, rounding=ROUND_CEILING)


def btc_str(btc: Decimal) -> str:
    return str(btc.quantize(SAT))
