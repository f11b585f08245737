"""Lightning's settings section: ``BILLING_LIGHTNING_<FIELD>`` is ``settings.lightning.<field>``.

Its back ends and the price oracle have sections of their own, in their folders: ``btcpay``
(``btcpay/settings.py``), ``nwc`` and ``alby`` (``nwc/settings.py``), ``price_oracle``
(``pricing/settings.py``)."""

from typing import Literal

from pydantic import BaseModel


class LightningSettings(BaseModel):
    """Which back end issues invoices, where wallets reach us, invoice expiry and polling."""

    # "none" = Lightning checkout off.
    backend: Literal["none", "btcpay", "nwc"] = "none"
    # Base URL clients and wallets reach the gateway at (LNURL-pay callbacks are built from it).
    public_base_url: str = ""  # empty: http://{gateway_host}:{gateway_port}
    invoice_expiry_s: int = 900
    # Bounded polling of open invoices when no settlement callback arrives (backoff up to the max).
    poll_enabled: bool = True
    poll_interval_s: float = 2.0
    poll_max_interval_s: float = 60.0
