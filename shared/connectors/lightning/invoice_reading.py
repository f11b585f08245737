"""What a provider's own answer says about one of our invoices: the only input that settles anything.

BTCPay: ``status``/``additionalStatus`` of the re-read invoice (``Settled`` counts, ``PaidLate`` and
``PaidPartial`` are recorded, not honoured); the preimage, when the store's Lightning node reveals it,
only upgrades the receipt's proof. NWC: ``settled_at`` of ``lookup_invoice`` and an amount that covers
it; a preimage that is present must hash to the payment hash (else the claim is invalid), and one
that is absent leaves the settlement confirmed by the provider only, never proven.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import structlog

from shared.connectors.lightning.bolt11_invoices import preimage_matches
from shared.connectors.lightning.nwc.client import NwcTransaction
from shared.connectors.lightning.pricing.conversion import MSAT_PER_BTC

log = structlog.get_logger(__name__)


class InvoiceStatus(StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    PARTIALLY_PAID = "partially_paid"
    PAID_LATE = "paid_late"
    EXPIRED = "expired"
    INVALID = "invalid"


class Proof(StrEnum):
    """What a settlement's receipt rests on: a preimage anyone can check, or the provider's word."""

    PREIMAGE = "preimage"
    CONFIRMED_BY_PROVIDER = "confirmed_by_provider"


TERMINAL = frozenset(
    {InvoiceStatus.SETTLED, InvoiceStatus.EXPIRED, InvoiceStatus.INVALID, InvoiceStatus.PAID_LATE}
)


@dataclass(frozen=True)
class ProviderReading:
    status: InvoiceStatus
    provider_status: str | None
    additional_status: str | None
    amount_paid_msat: int
    settled_at: datetime | None
    proof: Proof | None = None  # set when settled
    preimage: str | None = None  # lower-case hex, only one that hashes to the payment hash
    paid_bolt11: str | None = None  # the BOLT11 the provider says was paid (LNURL-pay mints its own)


def read_btcpay(invoice: dict[str, Any], payment_methods: list[dict[str, Any]]) -> ProviderReading:
    status = str(invoice.get("status"))
    additional = str(invoice.get("additionalStatus") or "None")
    paid_msat = max((_btc_to_msat(m.get("totalPaid")) for m in payment_methods), default=0)
    received = [
        int(p["receivedDate"])
        for m in payment_methods
        for p in m.get("payments") or []
        if "receivedDate" in p
    ]
    last_payment_at = datetime.fromtimestamp(max(received), tz=UTC) if received else None
    mapped = _btcpay_status(status, additional, paid_msat)
    settled_at = (
        (last_payment_at or datetime.now(UTC)) if mapped is InvoiceStatus.SETTLED else last_payment_at
    )
    proof = Proof.CONFIRMED_BY_PROVIDER if mapped is InvoiceStatus.SETTLED else None
    return ProviderReading(mapped, status, additional, paid_msat, settled_at, proof)


def with_node_preimage(reading: ProviderReading, preimage: str | None, payment_hash: str) -> ProviderReading:
    """A BTCPay settlement proven by the preimage its Lightning node reports, when that one hashes to
    the payment hash; BTCPay's ``Settled`` still decides, so a bad or missing one only leaves the
    receipt ``confirmed_by_provider``."""
    if reading.status is not InvoiceStatus.SETTLED or not preimage:
        return reading
    if not preimage_matches(preimage, payment_hash):
        log.warning("lightning_node_preimage_mismatch", payment_hash=payment_hash, backend="btcpay")
        return reading
    return replace(reading, proof=Proof.PREIMAGE, preimage=preimage.lower())


def _btcpay_status(status: str, additional: str, paid_msat: int) -> InvoiceStatus:
    if status == "Settled":
        return InvoiceStatus.SETTLED
    if status == "Invalid":
        return InvoiceStatus.INVALID
    if status == "Expired":
        return InvoiceStatus.PAID_LATE if additional == "PaidLate" else InvoiceStatus.EXPIRED
    if additional == "PaidPartial" or (status == "New" and paid_msat > 0):
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN  # New, or Processing (paid, waiting for confirmations)


def read_nwc(
    transaction: NwcTransaction,
    *,
    payment_hash: str,
    amount_msat: int,
    expires_at: datetime,
    now: datetime | None = None,
) -> ProviderReading:
    if transaction.payment_hash.lower() != payment_hash.lower():
        raise ValueError("lookup_invoice answered for another payment hash")
    moment = now or datetime.now(UTC)
    if transaction.preimage and not preimage_matches(transaction.preimage, payment_hash):
        # Not a settlement: whatever the wallet says, this is not the secret the invoice commits to.
        log.warning("lightning_preimage_mismatch", payment_hash=payment_hash, backend="nwc")
        return ProviderReading(InvoiceStatus.INVALID, transaction.state, "bad_preimage", 0, None)
    if transaction.settled_at is None:
        expired = transaction.state == "expired" or moment >= expires_at
        status = InvoiceStatus.EXPIRED if expired else InvoiceStatus.OPEN
        return ProviderReading(status, transaction.state, None, 0, None)
    settled_at = datetime.fromtimestamp(transaction.settled_at, tz=UTC)
    if transaction.amount < amount_msat:
        status = InvoiceStatus.PARTIALLY_PAID
    elif settled_at > expires_at:
        status = InvoiceStatus.PAID_LATE
    else:
        status = InvoiceStatus.SETTLED
    if status is not InvoiceStatus.SETTLED:
        return ProviderReading(status, transaction.state or "settled", None, transaction.amount, settled_at)
    preimage = transaction.preimage.lower() if transaction.preimage else None
    if preimage is None:
        log.info("lightning_settled_without_preimage", payment_hash=payment_hash, backend="nwc")
    proof = Proof.PREIMAGE if preimage else Proof.CONFIRMED_BY_PROVIDER
    return ProviderReading(
        status, transaction.state or "settled", None, transaction.amount, settled_at, proof, preimage
    )


def _btc_to_msat(value: object) -> int:
    if value is None:
        return 0
    return int(Decimal(str(value)) * MSAT_PER_BTC)
