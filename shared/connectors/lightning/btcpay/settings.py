"""BTCPay Server's settings section: ``BILLING_BTCPAY_<FIELD>`` is ``settings.btcpay.<field>``."""

from pydantic import BaseModel, SecretStr


class BtcpaySettings(BaseModel):
    """The store we sell through, its Greenfield API key and our webhook's secret."""

    base_url: str = ""
    store_id: str = ""
    api_key: SecretStr = SecretStr("")
    # BTCPay-Sig secret of our webhook; previous = rotation window.
    webhook_secret: SecretStr = SecretStr("")
    webhook_secret_previous: SecretStr | None = None
