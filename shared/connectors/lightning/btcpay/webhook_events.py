"""BTCPay Greenfield webhook envelopes (``WebhookEvent`` and its invoice/payout variants)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

INVOICE_EVENTS = frozenset(
    {
        "InvoiceCreated",
        "InvoiceReceivedPayment",
        "InvoicePaymentSettled",
        "InvoiceProcessing",
        "InvoiceExpired",
        "InvoiceSettled",
        "InvoiceInvalid",
    }
)
PAYOUT_EVENTS = frozenset({"PayoutCreated", "PayoutApproved", "PayoutUpdated"})

# BTCPay 2.0 renamed payment-method ids; 1.x names still arrive from older servers.
_PAYMENT_METHOD_IDS = {
    "BTC": "BTC-CHAIN",
    "BTC-ONCHAIN": "BTC-CHAIN",
    "BTC_ONCHAIN": "BTC-CHAIN",
    "BTC-CHAIN": "BTC-CHAIN",
    "BTC-LIGHTNINGNETWORK": "BTC-LN",
    "BTC_LIGHTNINGNETWORK": "BTC-LN",
    "BTC-LIGHTNINGLIKE": "BTC-LN",
    "BTC-LN": "BTC-LN",
    "BTC-LNURLPAY": "BTC-LNURL",
    "BTC_LNURLPAY": "BTC-LNURL",
    "BTC-LNURL": "BTC-LNURL",
}


def normalize_payment_method_id(value: str | None) -> str | None:
    """2.x id for a 1.x or 2.x name (``BTC-LightningNetwork`` → ``BTC-LN``); unknown ids unchanged."""
    if value is None:
        return None
    return _PAYMENT_METHOD_IDS.get(value.strip().upper(), value)


class BtcpayWebhookEvent(BaseModel):
    """The common envelope; unknown fields and types are kept (BTCPay adds them)."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    delivery_id: str = Field(alias="deliveryId", min_length=1, max_length=200)
    webhook_id: str | None = Field(default=None, alias="webhookId")
    original_delivery_id: str | None = Field(default=None, alias="originalDeliveryId")
    is_redelivery: bool = Field(default=False, alias="isRedelivery")
    type: str = Field(min_length=1, max_length=100)
    timestamp: int
    store_id: str | None = Field(default=None, alias="storeId")
    invoice_id: str | None = Field(default=None, alias="invoiceId")
    metadata: dict[str, Any] | None = None
    payout_id: str | None = Field(default=None, alias="payoutId")
    pull_payment_id: str | None = Field(default=None, alias="pullPaymentId")
    payout_state: str | None = Field(default=None, alias="payoutState")
    payment_method_id: str | None = Field(default=None, alias="paymentMethodId")
    payment_method: str | None = Field(default=None, alias="paymentMethod")  # 1.x name of the field

    @property
    def dedupe_key(self) -> str:
        """A redelivery carries its first attempt's id: every attempt of one event has one key."""
        return self.original_delivery_id or self.delivery_id
