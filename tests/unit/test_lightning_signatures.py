"""Webhook signatures: BTCPay-Sig (HMAC of the raw body) and Standard Webhooks, with rotation."""

import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook

from shared.connectors.lightning.btcpay.webhook_signature import btcpay_signature_matches
from shared.security.secret_values import SecretValue
from shared.security.webhook_signing import signed_with

BODY = b'{"deliveryId":"d1","type":"InvoiceSettled","timestamp":1}'
CURRENT, PREVIOUS = SecretStr("current-secret"), SecretStr("previous-secret")
SVIX_SECRET = "whsec_plJ3nmyCDGBKInavdOK15jsl"


def _btcpay_sig(secret: str, body: bytes = BODY) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_btcpay_signature_under_the_current_secret_matches() -> None:
    assert btcpay_signature_matches(_btcpay_sig("current-secret"), BODY, CURRENT, PREVIOUS)


def test_btcpay_signature_under_the_previous_secret_matches_during_rotation() -> None:
    assert btcpay_signature_matches(_btcpay_sig("previous-secret"), BODY, CURRENT, PREVIOUS)


@pytest.mark.parametrize(
    "header",
    [None, "", _btcpay_sig("another-secret"), _btcpay_sig("current-secret", BODY + b" "), "sha1=" + "0" * 40],
    ids=["missing", "empty", "wrong-secret", "other-body", "wrong-scheme"],
)
def test_btcpay_signature_that_does_not_cover_this_body_fails(header: str | None) -> None:
    assert not btcpay_signature_matches(header, BODY, CURRENT, PREVIOUS)


def test_btcpay_signature_fails_when_no_secret_is_configured() -> None:
    assert not btcpay_signature_matches(_btcpay_sig(""), BODY, SecretStr(""))


def test_svix_known_answer_vector() -> None:
    """docs.svix.com's manual-verification example, signed by the library we verify with."""
    signed = Webhook(SVIX_SECRET).sign(
        "msg_loFOjxBNrRLzqYUf",
        datetime.fromtimestamp(1731705121, tz=UTC),
        '{"event_type":"ping","data":{"success":true}}',
    )
    assert signed == "v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0="


def _standard_headers(secret: str, body: bytes, timestamp: int, prefix: str = "webhook") -> dict[str, str]:
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(timestamp, tz=UTC), body.decode())
    return {f"{prefix}-id": "msg_1", f"{prefix}-timestamp": str(timestamp), f"{prefix}-signature": signature}


@pytest.mark.parametrize("prefix", ["webhook", "svix"])
def test_standard_webhook_signed_now_verifies(prefix: str) -> None:
    headers = _standard_headers(SVIX_SECRET, BODY, int(time.time()), prefix)

    assert signed_with(SecretValue(SVIX_SECRET), headers, BODY)


def test_standard_webhook_outside_the_timestamp_tolerance_fails() -> None:
    headers = _standard_headers(SVIX_SECRET, BODY, int(time.time()) - 3600)

    assert not signed_with(SecretValue(SVIX_SECRET), headers, BODY)


def test_standard_webhook_with_a_tampered_body_fails() -> None:
    headers = _standard_headers(SVIX_SECRET, BODY, int(time.time()))

    assert not signed_with(SecretValue(SVIX_SECRET), headers, BODY + b" ")
