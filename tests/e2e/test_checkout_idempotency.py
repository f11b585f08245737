"""``Idempotency-Key`` on ``POST /v1/checkout``: scoped to the calling API key, claimed until done."""

import uuid

import httpx
import pytest

from shared.security.api_keys import Scope
from tests.conftest import Stack
from tests.infra.revenuecat import make_pack
from tests.infra.security import create_key

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


async def test_one_idempotency_key_from_two_api_keys_makes_two_sessions(stack: Stack, user_id: str) -> None:
    pack, _ = await make_pack(stack.sessions)
    checkout = {"userId": user_id, "packSlug": pack.slug, "provider": "revenuecat"}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    answers = []
    for _ in range(2):
        key = (await create_key(stack.sessions, frozenset({Scope.CHECKOUT_WRITE}))).key.reveal()
        async with httpx.AsyncClient(headers={"X-API-Key": key}, timeout=30) as client:
            url = f"{stack.gateway_url}/v1/checkout"
            answers.append(await client.post(url, json=checkout, headers=headers))

    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json()["id"] != answers[1].json()["id"]
