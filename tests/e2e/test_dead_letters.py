"""Poison messages: dead-lettered with their error, never lost, never blocking the partition."""

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider
from shared.messaging.topics import Topics
from tests.conftest import Stack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _produce(
    stack: Stack, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def test_unparseable_update_goes_to_dead_letters_with_error(stack: Stack) -> None:
    marker = uuid.uuid4().hex.encode()
    await _produce(stack, stack.topics.entitlement_updates, b"{not json " + marker, marker, [])
    letter = await stack.published.wait_for(
        Topics.dead_letters_of(stack.topics.entitlement_updates), lambda r: r.key == marker
    )
    assert letter.value == b"{not json " + marker
    assert b"ValidationError" in letter.headers["x-error"]
    assert letter.headers["x-original-topic"] == stack.topics.entitlement_updates.encode()


async def test_update_for_unknown_product_is_dead_lettered(stack: Stack, user_id: str) -> None:
    update = EntitlementUpdate(
        update_id=uuid.uuid4().hex,
        provider=Provider.REVENUECAT,
        provider_event_type="INITIAL_PURCHASE",
        user_id=user_id,
        provider_product_id="com.nobody.sells.this",
        purchase_reference="r",
        status=EntitlementStatus.ACTIVE,
        occurred_at=datetime.now(UTC),
    )
    await _produce(
        stack, stack.topics.entitlement_updates, update.model_dump_json().encode(), user_id.encode(), []
    )
    letter = await stack.published.wait_for(
        Topics.dead_letters_of(stack.topics.entitlement_updates), lambda r: r.key == user_id.encode()
    )
    assert b"no pack maps" in letter.headers["x-error"]
    assert letter.value == update.model_dump_json().encode()
