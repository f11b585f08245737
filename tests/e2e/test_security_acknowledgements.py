"""Every webhook response carries a Standard Webhooks signature of its body; other responses do not."""

import time
import uuid

import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from shared.connectors.registry import secret_specs
from shared.security.secrets import build_secret_provider
from tests.conftest import Stack


async def ack_key(stack: Stack) -> Webhook:
    """The gateway's current acknowledgement key, read as the gateway reads it."""
    return Webhook(
        (await build_secret_provider(stack.settings, secret_specs()).current("ack_signing_secret")).reveal()
    )


def ping_event() -> bytes:
    now_ms = int(time.time() * 1000)
    event = {"id": f"evt-ack-{uuid.uuid4().hex}", "type": "TEST", "event_timestamp_ms": now_ms}
    return orjson.dumps({"api_version": "1.0", "event": event})


async def test_accepted_webhook_response_is_signed_over_its_body(stack: Stack) -> None:
    headers = {
        "Authorization": stack.settings.revenuecat.webhook_authorization.get_secret_value(),
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{stack.gateway_url}/v1/webhooks/revenuecat", content=ping_event(), headers=headers
        )
    assert response.status_code == 200
    verified = (await ack_key(stack)).verify(response.content, dict(response.headers))
    assert verified["status"] == "accepted"


async def test_rejected_webhook_response_is_signed_too(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{stack.gateway_url}/v1/webhooks/lightning",
            content=b"{}",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 401
    assert (await ack_key(stack)).verify(response.content, dict(response.headers))["error"][
        "code"
    ] == "unauthorized"


async def test_tampered_acknowledgement_body_fails_verification(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{stack.gateway_url}/v1/webhooks/revenuecat", content=b"{}")
    tampered = response.content.replace(b"}}", b', "granted": true}}')
    assert tampered != response.content
    with pytest.raises(Exception, match="No matching signature"):
        (await ack_key(stack)).verify(tampered, dict(response.headers))


async def test_api_responses_are_not_webhook_signed(stack: Stack, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{stack.gateway_url}/v1/packs")
    assert "webhook-signature" not in response.headers
