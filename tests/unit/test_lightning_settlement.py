"""What a provider's re-read means for one of our invoices (BTCPay statuses, NWC lookup_invoice)."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.connectors.lightning.invoice_reading import InvoiceStatus, read_btcpay, read_nwc
from shared.connectors.lightning.nwc.client import NwcTransaction

PREIMAGE = "11" * 32
PAYMENT_HASH = hashlib.sha256(bytes.fromhex(PREIMAGE)).hexdigest()
EXPIRES = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _methods(total_paid: str, received: int | None = 1795500000) -> list[dict[str, Any]]:
    payments = (
        [{"id": "p", "receivedDate": received, "value": total_paid, "status": "Settled"}] if received else []
    )
    return [{"paymentMethodId": "BTC-LN", "totalPaid": total_paid, "payments": payments}]


@pytest.mark.parametrize(
    ("status", "additional", "paid", "expected"),
    [
        ("Settled", "None", "0.00010000", InvoiceStatus.SETTLED),
        ("Settled", "Marked", "0.00000000", InvoiceStatus.SETTLED),
        ("Settled", "PaidOver", "0.00020000", InvoiceStatus.SETTLED),
        ("Processing", "None", "0.00010000", InvoiceStatus.OPEN),
        ("New", "None", "0.00000000", InvoiceStatus.OPEN),
        ("New", "PaidPartial", "0.00004000", InvoiceStatus.PARTIALLY_PAID),
        ("Expired", "PaidLate", "0.00010000", InvoiceStatus.PAID_LATE),
        ("Expired", "PaidPartial", "0.00004000", InvoiceStatus.EXPIRED),
        ("Expired", "None", "0.00000000", InvoiceStatus.EXPIRED),
        ("Invalid", "Marked", "0.00000000", InvoiceStatus.INVALID),
    ],
)
def test_btcpay_status_maps_to_our_invoice_status(
    status: str, additional: str, paid: str, expected: InvoiceStatus
) -> None:
    reading = read_btcpay({"status": status, "additionalStatus": additional}, _methods(paid))

    assert reading.status is expected


def test_btcpay_paid_amount_is_read_in_msat() -> None:
    reading = read_btcpay({"status": "New", "additionalStatus": "PaidPartial"}, _methods("0.00004000"))

    assert reading.amount_paid_msat == 4_000_000


def test_btcpay_settlement_time_is_the_last_payment() -> None:
    reading = read_btcpay({"status": "Settled", "additionalStatus": "None"}, _methods("0.0001", 1795500000))

    assert reading.settled_at == datetime.fromtimestamp(1795500000, tz=UTC)


def _transaction(**fields: Any) -> NwcTransaction:
    values: dict[str, Any] = {"payment_hash": PAYMENT_HASH, "amount": 1_000_000} | fields
    return NwcTransaction(**values)


def _read(transaction: NwcTransaction, now: datetime = EXPIRES - timedelta(minutes=5)) -> InvoiceStatus:
    return read_nwc(
        transaction, payment_hash=PAYMENT_HASH, amount_msat=1_000_000, expires_at=EXPIRES, now=now
    ).status


def test_nwc_settled_with_a_matching_preimage_is_settled() -> None:
    settled_at = int((EXPIRES - timedelta(minutes=1)).timestamp())

    assert _read(_transaction(preimage=PREIMAGE, settled_at=settled_at)) is InvoiceStatus.SETTLED


def test_nwc_preimage_that_does_not_hash_to_the_payment_hash_invalidates_the_claim() -> None:
    settled_at = int((EXPIRES - timedelta(minutes=1)).timestamp())

    assert _read(_transaction(preimage="22" * 32, settled_at=settled_at)) is InvoiceStatus.INVALID


def test_nwc_settled_for_less_than_the_invoice_is_partial() -> None:
    settled_at = int((EXPIRES - timedelta(minutes=1)).timestamp())

    assert (
        _read(_transaction(preimage=PREIMAGE, settled_at=settled_at, amount=999_999))
        is InvoiceStatus.PARTIALLY_PAID
    )


def test_nwc_settled_after_expiry_is_late() -> None:
    settled_at = int((EXPIRES + timedelta(seconds=30)).timestamp())

    assert _read(_transaction(preimage=PREIMAGE, settled_at=settled_at)) is InvoiceStatus.PAID_LATE


def test_nwc_unsettled_invoice_is_open_until_it_expires() -> None:
    assert _read(_transaction()) is InvoiceStatus.OPEN
    assert _read(_transaction(), now=EXPIRES) is InvoiceStatus.EXPIRED


def test_nwc_answer_for_another_payment_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="another payment hash"):
        read_nwc(
            _transaction(payment_hash="00" * 32), payment_hash=PAYMENT_HASH, amount_msat=1, expires_at=EXPIRES
        )
