"""Raw Lightning deliveries read as settlement checks: which invoice or payout to re-read."""

import orjson
import pytest

from shared.connectors.lightning.btcpay.webhook_events import normalize_payment_method_id
from shared.connectors.lightning.delivery_targets import settlement_check


def _btcpay(**fields: object) -> bytes:
    base = {
        "deliveryId": "d2",
        "webhookId": "w",
        "originalDeliveryId": "d1",
        "isRedelivery": True,
        "timestamp": 1,
    }
    return orjson.dumps(base | fields)


def test_btcpay_invoice_event_names_the_invoice_and_dedupes_on_the_original_delivery() -> None:
    check = settlement_check("btcpay", _btcpay(type="InvoiceSettled", invoiceId="inv-1", storeId="s"))

    assert (check.btcpay_invoice_id, check.dedupe_key, check.is_known_type) == ("inv-1", "btcpay:d1", True)


def test_btcpay_payout_event_names_the_pull_payment_and_payout() -> None:
    check = settlement_check(
        "btcpay", _btcpay(type="PayoutUpdated", payoutId="po", pullPaymentId="pp", payoutState="Completed")
    )

    assert (check.pull_payment_id, check.payout_id) == ("pp", "po")


def test_btcpay_unknown_event_type_is_kept_but_names_nothing() -> None:
    check = settlement_check("btcpay", _btcpay(type="SubscriberCreated", storeId="s"))

    assert (check.event_type, check.is_known_type) == ("SubscriberCreated", False)


def test_nwc_payment_received_names_the_payment_hash() -> None:
    body = orjson.dumps(
        {"notification_type": "payment_received", "notification": {"payment_hash": "ab" * 32}}
    )

    check = settlement_check("nwc", body)

    assert (check.payment_hash, check.dedupe_key) == ("ab" * 32, f"nwc:{'ab' * 32}")


def test_alby_webhook_dedupes_on_the_webhook_id() -> None:
    body = orjson.dumps({"payment_hash": "cd" * 32, "settled": True})

    check = settlement_check("alby", body, "msg_42")

    assert (check.payment_hash, check.dedupe_key) == ("cd" * 32, "alby:msg_42")


def test_poll_observation_names_the_payment_hash_and_what_was_seen() -> None:
    body = orjson.dumps({"source": "poll", "paymentHash": "ef" * 32, "observedStatus": "settled"})

    check = settlement_check("poll", body)

    assert (check.payment_hash, check.dedupe_key) == ("ef" * 32, f"poll:{'ef' * 32}:settled")


@pytest.mark.parametrize(
    ("source", "body"),
    [
        ("btcpay", b"not json"),
        ("btcpay", b'{"type": "InvoiceSettled"}'),
        ("nwc", b"[1]"),
        ("carrier-pigeon", b"{}"),
    ],
    ids=["not-json", "no-delivery-id", "not-an-object", "unknown-source"],
)
def test_unreadable_delivery_is_a_value_error(source: str, body: bytes) -> None:
    with pytest.raises(ValueError):
        settlement_check(source, body)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BTC-LightningNetwork", "BTC-LN"),
        ("BTC_LightningNetwork", "BTC-LN"),
        ("BTC-LN", "BTC-LN"),
        ("BTC-LNURLPAY", "BTC-LNURL"),
        ("BTC", "BTC-CHAIN"),
        ("BTC-OnChain", "BTC-CHAIN"),
        ("BTC-CHAIN", "BTC-CHAIN"),
    ],
)
def test_btcpay_1x_and_2x_payment_method_names_normalize_to_2x(name: str, expected: str) -> None:
    assert normalize_payment_method_id(name) == expected
