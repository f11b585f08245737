"""Secret rotation through ``billing secrets``: the old value verifies inside the window, not after;
only the new acknowledgement key signs once rotated."""

import time
import uuid
from collections.abc import AsyncIterator, Awaitable

import httpx
import orjson
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from shared.connectors.registry import secret_specs
from shared.security.secrets import build_secret_provider
from tests.conftest import Stack
from tests.infra.security import audit_head_seq, audit_rows_after, billing_cli
from tests.infra.waiting import eventually

NAME = "revenuecat_webhook_authorization"


def ping_event() -> bytes:
    now_ms = int(time.time() * 1000)
    event = {
        "id": f"evt-rot-{uuid.uuid4().hex}",
        "type": "TEST",
        "event_timestamp_ms": now_ms,
        "app_user_id": None,
    }
    return orjson.dumps({"api_version": "1.0", "event": event})


async def webhook_status(stack: Stack, authorization: str) -> int:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{stack.gateway_url}/v1/webhooks/revenuecat",
            content=ping_event(),
            headers={"Authorization": authorization, "Content-Type": "application/json"},
        )
    return response.status_code


@pytest.fixture
async def original_authorization(stack: Stack) -> AsyncIterator[str]:
    """The session's RevenueCat value, restored (and its window closed) after the test."""
    original = (await build_secret_provider(stack.settings, secret_specs()).current(NAME)).reveal()
    yield original
    billing_cli(stack.settings, "secrets", "rotate", NAME, "--value-stdin", stdin=original + "\n")
    billing_cli(stack.settings, "secrets", "end-window", NAME)


async def test_old_value_is_accepted_in_the_window_and_refused_after(
    stack: Stack, original_authorization: str
) -> None:
    new_value = f"Bearer rotated-{uuid.uuid4().hex}"
    rotated = billing_cli(stack.settings, "secrets", "rotate", NAME, "--value-stdin", stdin=new_value + "\n")
    assert rotated.returncode == 0, rotated.stderr
    assert "the previous value is accepted until" in rotated.stdout

    assert await eventually(lambda: _is(webhook_status(stack, new_value), 200))
    assert await webhook_status(stack, original_authorization) == 200  # inside the window

    ended = billing_cli(stack.settings, "secrets", "end-window", NAME)
    assert ended.returncode == 0, ended.stderr
    assert await eventually(lambda: _is(webhook_status(stack, original_authorization), 401))
    assert await webhook_status(stack, new_value) == 200


async def test_rotation_is_audited_without_the_value(stack: Stack, original_authorization: str) -> None:
    head = await audit_head_seq(stack.sessions)
    new_value = f"Bearer rotated-{uuid.uuid4().hex}"
    billing_cli(stack.settings, "secrets", "rotate", NAME, "--value-stdin", stdin=new_value + "\n")
    rows = await audit_rows_after(stack.sessions, head, "secret.rotated")
    assert [r["subject"] for r in rows] == [f"secret:{NAME}"]
    assert new_value not in orjson.dumps(rows, default=str).decode()


async def test_rotated_acknowledgement_key_alone_signs(stack: Stack) -> None:
    old_key = (
        await build_secret_provider(stack.settings, secret_specs()).current("ack_signing_secret")
    ).reveal()
    rotated = billing_cli(stack.settings, "secrets", "rotate", "ack_signing_secret", "--reveal")
    assert rotated.returncode == 0, rotated.stderr
    new_key = rotated.stdout.split("new value: ")[1].strip()

    async def signed_by_new_key() -> bool:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{stack.gateway_url}/v1/webhooks/revenuecat", content=b"{}")
        return _verifies(new_key, response) and not _verifies(old_key, response)

    assert await eventually(signed_by_new_key)


def _verifies(key: str, response: httpx.Response) -> bool:
    try:
        Webhook(key).verify(response.content, dict(response.headers), json_parse=False)
    except WebhookVerificationError:
        return False
    return True


async def _is(status: Awaitable[int], expected: int) -> bool:
    return await status == expected
