"""``Idempotency-Key`` on ``POST /v1/checkout``: scoped to the calling API key, claimed until done."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from services.gateway.idempotency import IdempotencyConflictError, IdempotencyStore, StoredAnswer
from shared.db.models import IdempotencyKeyRecord
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


async def _age_claims(stack: Stack, api_key_id: uuid.UUID, age: timedelta) -> None:
    async with stack.sessions() as session, session.begin():
        await session.execute(
            update(IdempotencyKeyRecord)
            .where(IdempotencyKeyRecord.api_key_id == api_key_id)
            .values(created_at=datetime.now(UTC) - age)
        )


async def test_a_claim_outlives_a_minute_and_is_forgotten_after_a_day(stack: Stack) -> None:
    store = IdempotencyStore(stack.sessions, "test")
    caller, key = uuid.uuid4(), uuid.uuid4().hex
    assert (await store.claim(caller, key, b"{}")).stored is None

    await _age_claims(stack, caller, timedelta(minutes=10))
    with pytest.raises(IdempotencyConflictError) as still_running:
        await store.claim(caller, key, b"{}")
    assert still_running.value.code == "idempotency_in_progress"

    await _age_claims(stack, caller, timedelta(days=1, minutes=1))
    assert (await store.claim(caller, key, b"{}")).stored is None


async def test_a_released_claim_can_be_claimed_again(stack: Stack) -> None:
    store = IdempotencyStore(stack.sessions, "test")
    caller, key = uuid.uuid4(), uuid.uuid4().hex
    await store.release(await store.claim(caller, key, b"{}"))

    assert (await store.claim(caller, key, b"{}")).stored is None


async def test_a_completed_claim_replays_its_answer_and_is_not_released(stack: Stack) -> None:
    store = IdempotencyStore(stack.sessions, "test")
    caller, key = uuid.uuid4(), uuid.uuid4().hex
    claim = await store.claim(caller, key, b"{}")
    await store.complete(claim, StoredAnswer(201, {"id": "s-1"}))
    await store.release(claim)

    assert (await store.claim(caller, key, b"{}")).stored == StoredAnswer(201, {"id": "s-1"})
