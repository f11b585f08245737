"""A raw Lightning delivery (BTCPay webhook, Alby webhook, NWC notification, poll) read as a
``SettlementCheck``: which invoice or payout to re-read. Nothing in it is believed, only followed."""

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.connectors.lightning.btcpay.webhook_events import (
    INVOICE_EVENTS,
    PAYOUT_EVENTS,
    BtcpayWebhookEvent,
)

DeliverySource = Literal["btcpay", "alby", "nwc", "poll"]


class SettlementCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: DeliverySource
    dedupe_key: str = Field(min_length=1, max_length=300)
    event_type: str
    btcpay_invoice_id: str | None = None
    payment_hash: str | None = None
    pull_payment_id: str | None = None
    payout_id: str | None = None

    @property
    def invoice_ref(self) -> str | None:
        return self.btcpay_invoice_id or self.payment_hash or self.pull_payment_id

    @property
    def is_known_type(self) -> bool:
        return self.invoice_ref is not None


class PollObservation(BaseModel):
    """What the poller publishes when a provider re-read shows an invoice changed without a callback."""

    model_config = ConfigDict(frozen=True)

    source: Literal["poll"] = "poll"
    payment_hash: str = Field(alias="paymentHash")
    observed_status: str = Field(alias="observedStatus")


def settlement_check(source: str, body: bytes, delivery_id: str | None = None) -> SettlementCheck:
    """Parse one raw delivery; ``ValueError`` (dead letter) when it is not what its source sends."""
    try:
        if source == "btcpay":
            return _btcpay(BtcpayWebhookEvent.model_validate_json(body))
        data = orjson.loads(body)
        if not isinstance(data, dict):
            raise ValueError("delivery body is not a JSON object")
        if source == "nwc":
            return _nwc(data)
        if source == "alby":
            return _alby(data, delivery_id)
        if source == "poll":
            observed = PollObservation.model_validate(data)
            return SettlementCheck(
                source="poll",
                dedupe_key=f"poll:{observed.payment_hash}:{observed.observed_status}",
                event_type=f"poll:{observed.observed_status}",
                payment_hash=observed.payment_hash,
            )
    except (ValidationError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"unreadable {source} delivery: {exc}") from exc
    raise ValueError(f"unknown Lightning delivery source {source!r}")


def _btcpay(event: BtcpayWebhookEvent) -> SettlementCheck:
    key = f"btcpay:{event.dedupe_key}"
    if event.type in INVOICE_EVENTS and event.invoice_id:
        return SettlementCheck(
            source="btcpay", dedupe_key=key, event_type=event.type, btcpay_invoice_id=event.invoice_id
        )
    if event.type in PAYOUT_EVENTS and event.payout_id and event.pull_payment_id:
        return SettlementCheck(
            source="btcpay",
            dedupe_key=key,
            event_type=event.type,
            pull_payment_id=event.pull_payment_id,
            payout_id=event.payout_id,
        )
    return SettlementCheck(source="btcpay", dedupe_key=key, event_type=event.type)


def _nwc(data: dict[str, Any]) -> SettlementCheck:
    notification = data.get("notification") or {}
    payment_hash = notification.get("payment_hash")
    kind = str(data.get("notification_type") or "unknown")
    if kind != "payment_received" or not isinstance(payment_hash, str):
        return SettlementCheck(
            source="nwc", dedupe_key=f"nwc:{kind}:{orjson.dumps(data).hex()[:64]}", event_type=kind
        )
    return SettlementCheck(
        source="nwc", dedupe_key=f"nwc:{payment_hash}", event_type=kind, payment_hash=payment_hash
    )


def _alby(data: dict[str, Any], delivery_id: str | None) -> SettlementCheck:
    payment_hash = data.get("payment_hash")
    event_type = str(data.get("type") or "invoice.incoming.settled")
    key = f"alby:{delivery_id or payment_hash}"
    return SettlementCheck(
        source="alby",
        dedupe_key=key,
        event_type=event_type,
        payment_hash=payment_hash if isinstance(payment_hash, str) else None,
    )
