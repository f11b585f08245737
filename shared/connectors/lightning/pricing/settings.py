"""The price oracle's settings section: ``BILLING_PRICE_ORACLE_<FIELD>`` is
``settings.price_oracle.<field>``."""

from typing import Literal

from pydantic import BaseModel


class PriceOracleSettings(BaseModel):
    """Fiat → msat. "btcpay" reads the store's rate endpoint (the sandbox serves one)."""

    source: Literal["btcpay", "coingecko"] = "btcpay"
    url: str = ""
    cache_ttl_s: int = 60
