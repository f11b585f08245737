"""BTCPay payment-method ids: 2.x names on output, 1.x names accepted on input."""

LIGHTNING = "BTC-LN"
LNURL = "BTC-LNURL"
ONCHAIN = "BTC-CHAIN"
ALL = (ONCHAIN, LIGHTNING, LNURL)

_LEGACY = {
    "BTC": ONCHAIN,
    "BTC-ONCHAIN": ONCHAIN,
    "BTC_ONCHAIN": ONCHAIN,
    "BTC-LIGHTNINGNETWORK": LIGHTNING,
    "BTC_LIGHTNINGNETWORK": LIGHTNING,
    "BTC-LIGHTNINGLIKE": LIGHTNING,
    "BTC-LNURLPAY": LNURL,
    "BTC_LNURLPAY": LNURL,
}


def normalize_payment_method_id(value: str) -> str:
    """``BTC-LightningNetwork`` → ``BTC-LN`` etc.; unknown ids raise ``ValueError``."""
    upper = value.strip().upper()
    if upper in ALL:
        return upper
    if upper in _LEGACY:
        return _LEGACY[upper]
    raise ValueError(f"unknown payment method {value!r}")
