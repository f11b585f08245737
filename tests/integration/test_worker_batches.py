"""The worker's batches against the real Postgres and Kafka: one transaction for many updates, a
duplicate in a batch applied once, a poison message dead-lettered alone while the rest are applied,
every change audited in order."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from services.entitlement_worker.batches import apply_record_batch
from shared.db.models import Outbox, UserEntitlement
from shared.db.security_models import AuditLogRow
from shared.domain.audit import user_subject
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics
from shared.security.audit_chain import verify_audit_chain
from tests.conftest import Stack, revenuecat_product_of


@pytest.fixture
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(stack.settings)
    await producer.start()
    yield producer
    await producer.stop()


def _update(user_id: str, product_id: str, update_id: str | None = None) -> EntitlementUpdate:
    now = datetime.now(UTC)
    return EntitlementUpdate(
        update_id=update_id or str(uuid.uuid4()),
        provider=Provider.REVENUECAT,
        provider_event_type="INITIAL_PURCHASE",
        user_id=user_id,
        provider_product_id=product_id,
        purchase_reference=product_id,
        status=EntitlementStatus.ACTIVE,
        occurred_at=now,
        expires_at=now + timedelta(days=7),
    )


def _records(stack: Stack, values: list[bytes], key: str) -> list[ConsumerRecord[bytes, bytes]]:
    topic = stack.topics.entitlement_updates
    return [
        ConsumerRecord(topic, 0, offset, 0, 0, key.encode(), value, None, len(key), len(value), [])
        for offset, value in enumerate(values)
    ]


async def _apply(
    stack: Stack, producer: AIOKafkaProducer, records: list[ConsumerRecord[bytes, bytes]]
) -> int:
    """Apply one batch; returns how many times it asked the relay to wake."""
    wakes: list[None] = []
    await apply_record_batch(
        records,
        sessions=stack.sessions,
        entitlements_topic=stack.topics.entitlements,
        producer=producer,
        settings=stack.settings,
        announced=lambda: wakes.append(None),
    )
    return len(wakes)


async def _activations(stack: Stack, user_id: str) -> list[str]:
    async with stack.sessions() as session:
        rows = await session.execute(
            select(Outbox.payload["data"]["purchase_reference"].astext).where(
                Outbox.key == user_id, Outbox.event_type == "entitlement.activated"
            )
        )
        return sorted(rows.scalars())


async def _entitled_products(stack: Stack, user_id: str) -> list[str]:
    async with stack.sessions() as session:
        rows = await session.execute(
            select(UserEntitlement.purchase_reference).where(UserEntitlement.user_id == user_id)
        )
        return sorted(rows.scalars())


async def test_duplicate_in_a_batch_is_applied_once(
    stack: Stack, producer: AIOKafkaProducer, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    product = revenuecat_product_of(subscription_pack)
    update = _update(user_id, product).model_dump_json().encode()

    await _apply(stack, producer, _records(stack, [update, update, update], user_id))

    assert await _activations(stack, user_id) == [product]
    assert await _entitled_products(stack, user_id) == [product]


async def test_poison_message_in_a_batch_is_dead_lettered_alone_and_the_rest_applied(
    stack: Stack, producer: AIOKafkaProducer, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    product = revenuecat_product_of(subscription_pack)
    first = _update(user_id, product).model_dump_json().encode()
    poison = _update(user_id, f"com.nobody.sells.{uuid.uuid4().hex[:8]}").model_dump_json().encode()
    duplicate_of_first = first

    await _apply(stack, producer, _records(stack, [first, poison, duplicate_of_first], user_id))

    dlq = Topics.dead_letters_of(stack.topics.entitlement_updates)
    letter = await stack.published.wait_for(dlq, lambda r: r.value == poison)
    assert b"no pack maps" in letter.headers["x-error"]
    assert await _entitled_products(stack, user_id) == [product]
    await stack.published.caught_up()
    assert [r.value for r in stack.published.on(dlq, lambda r: r.key == user_id.encode())] == [poison]


async def test_batch_of_new_entitlements_wakes_the_outbox_relay(
    stack: Stack, producer: AIOKafkaProducer, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    product = revenuecat_product_of(subscription_pack)
    values = [_update(f"{user_id}-{i}", product).model_dump_json().encode() for i in range(3)]

    assert await _apply(stack, producer, _records(stack, values, user_id)) == 1


async def test_batch_audits_each_change_in_order_and_keeps_the_chain_intact(
    stack: Stack, producer: AIOKafkaProducer, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    product = revenuecat_product_of(subscription_pack)
    users = [f"{user_id}-{i}" for i in range(3)]
    values = [_update(user, product).model_dump_json().encode() for user in users]

    await _apply(stack, producer, _records(stack, values, user_id))

    async with stack.sessions() as session:
        subjects = await session.execute(
            select(AuditLogRow.subject)
            .where(AuditLogRow.subject.in_([user_subject(u) for u in users]))
            .order_by(AuditLogRow.seq)
        )
        assert list(subjects.scalars()) == [user_subject(u) for u in users]
        assert (await verify_audit_chain(session)).broken_at_seq is None
