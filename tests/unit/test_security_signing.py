"""Standard Webhooks signatures: known-answer vector, rotation, tolerance, malformed headers."""

import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

from shared.security.secret_names import standard_webhooks_key
from shared.security.secret_values import SecretValue
from shared.security.webhook_signing import sign_body, signed_with

# Svix's published example (docs.svix.com, "verifying payloads manually").
SVIX_SECRET = SecretValue("whsec_plJ3nmyCDGBKInavdOK15jsl")
SVIX_BODY = b'{"event_type":"ping","data":{"success":true}}'
SVIX_SIGNATURE = "v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0="


def test_sign_body_reproduces_the_svix_known_answer() -> None:
    at = datetime.fromtimestamp(1731705121, tz=UTC)
    headers = sign_body(SVIX_SECRET, SVIX_BODY, message_id="msg_loFOjxBNrRLzqYUf", at=at)
    assert headers.webhook_signature == SVIX_SIGNATURE


def test_acknowledgement_verifies_with_the_reference_library() -> None:
    key = SecretValue(standard_webhooks_key())
    body = b'{"status":"accepted","event_id":"evt-1"}'
    headers = sign_body(key, body).as_dict()
    assert Webhook(key.reveal()).verify(body, headers) == {"status": "accepted", "event_id": "evt-1"}


def test_signature_under_another_key_is_refused() -> None:
    body = b"{}"
    headers = sign_body(SecretValue(standard_webhooks_key()), body).as_dict()
    assert not signed_with(SecretValue(standard_webhooks_key()), headers, body)


def test_any_v1_entry_may_match_during_a_sender_rotation() -> None:
    old, new = SecretValue(standard_webhooks_key()), SecretValue(standard_webhooks_key())
    body = b'{"a":1}'
    signed_old = sign_body(old, body, message_id="msg_1")
    signed_new = sign_body(
        new, body, message_id="msg_1", at=datetime.fromtimestamp(int(signed_old.webhook_timestamp), UTC)
    )
    headers = signed_old.as_dict() | {
        "webhook-signature": f"{signed_new.webhook_signature} {signed_old.webhook_signature}"
    }
    assert signed_with(old, headers, body)


def test_malformed_signature_header_is_refused_not_raised() -> None:
    key = SecretValue(standard_webhooks_key())
    headers = sign_body(key, b"{}").as_dict() | {"webhook-signature": "v1,%%%not-base64 garbage"}
    assert not signed_with(key, headers, b"{}")


def test_timestamp_outside_the_tolerance_is_refused() -> None:
    key = SecretValue(standard_webhooks_key())
    headers = sign_body(key, b"{}", at=datetime.fromtimestamp(time.time() - 301, UTC)).as_dict()
    assert not signed_with(key, headers, b"{}")


def test_svix_header_spelling_is_accepted() -> None:
    key = SecretValue(standard_webhooks_key())
    signed = sign_body(key, b"{}").as_dict()
    svix = {name.replace("webhook-", "svix-"): value for name, value in signed.items()}
    assert signed_with(key, svix, b"{}")
