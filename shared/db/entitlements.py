"""The entitlement ledger: applies provider updates idempotently and records the events to announce."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.bundles import entitlement_targets
from shared.db.catalog import find_pack_for_product
from shared.db.models import BillingCatalog, Outbox, ProcessedEvent, UserEntitlement
from shared.domain.cloudevents import CloudEvent
from shared.domain.entitlements import (
    EntitlementEventType,
    EntitlementStatus,
    EntitlementUpdate,
    EntitlementView,
    event_type_for_transition,
)
from shared.security.audit import AuditEntry, append_audit, user_subject


async def claim_event(session: AsyncSession, provider: str, provider_event_id: str) -> bool:
    """Record the event as processed; False when it already was (a duplicate)."""
    stmt = (
        insert(ProcessedEvent)
        .values(provider=provider, provider_event_id=provider_event_id)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.provider)
    )
    return (await session.execute(stmt)).first() is not None


async def apply_entitlement_update(
    session: AsyncSession, update: EntitlementUpdate, entitlements_topic: str
) -> EntitlementEventType | None:
    """Apply one update inside the caller's transaction; returns the event it announced, if any.

    Duplicates (same ``update_id``) and updates older than the stored state change nothing.
    """
    if not await claim_event(session, update.provider.value, update.update_id):
        return None
    pack = await find_pack_for_product(session, update.provider, update.provider_product_id)
    # A bundle's update reaches one entitlement per child pack (see shared/db/bundles.py).
    announced: EntitlementEventType | None = None
    for target, purchase_reference in await entitlement_targets(session, pack, update):
        event_type = await _apply_to_entitlement(
            session, update, target, purchase_reference, entitlements_topic
        )
        announced = announced or event_type
    return announced


async def _apply_to_entitlement(
    session: AsyncSession,
    update: EntitlementUpdate,
    pack: BillingCatalog,
    purchase_reference: str,
    entitlements_topic: str,
) -> EntitlementEventType | None:
    row = (
        await session.execute(
            select(UserEntitlement)
            .where(
                UserEntitlement.user_id == update.user_id,
                UserEntitlement.catalog_id == pack.id,
                UserEntitlement.source_provider == update.provider.value,
                UserEntitlement.purchase_reference == purchase_reference,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is not None and row.last_event_at > update.occurred_at:
        return None
    previous_status = EntitlementStatus(row.status) if row is not None else None
    event_type = event_type_for_transition(
        previous_status, row.expires_at if row is not None else None, update
    )
    if row is None:
        row = UserEntitlement(
            id=uuid.uuid4(),
            user_id=update.user_id,
            catalog_id=pack.id,
            source_provider=update.provider.value,
            purchase_reference=purchase_reference,
        )
        session.add(row)
    row.status = update.status.value
    row.activated_at = update.activated_at or row.activated_at or update.occurred_at
    row.expires_at = update.expires_at
    row.last_event_at = update.occurred_at
    row.status_reason = update.reason
    row.updated_at = datetime.now(UTC)
    # Audited in this transaction: the change and its audit row commit (or roll back) together.
    await append_audit(session, _audit_entry(update, pack, purchase_reference, previous_status, event_type))
    if event_type is not None:
        await session.flush()
        session.add(_outbox_row(entitlements_topic, event_type, row, pack, update))
    return event_type


def _audit_entry(
    update: EntitlementUpdate,
    pack: BillingCatalog,
    purchase_reference: str,
    previous_status: EntitlementStatus | None,
    event_type: EntitlementEventType | None,
) -> AuditEntry:
    return AuditEntry(
        actor=f"provider:{update.provider.value}",
        event="entitlement.changed",
        subject=user_subject(update.user_id),
        details={
            "pack_slug": pack.slug,
            "purchase_reference": purchase_reference,
            "from": previous_status.value if previous_status else None,
            "to": update.status.value,
            "announced": event_type.value if event_type else None,
            "provider_event_id": update.update_id,
        },
    )


def _outbox_row(
    topic: str,
    event_type: EntitlementEventType,
    row: UserEntitlement,
    pack: BillingCatalog,
    update: EntitlementUpdate,
) -> Outbox:
    outbox_id = uuid.uuid4()
    event = CloudEvent(
        id=str(outbox_id),
        type=event_type.value,
        subject=row.user_id,
        time=datetime.now(UTC),
        data=entitlement_view(row, pack.slug) | {"provider_event_id": update.update_id},
    )
    return Outbox(
        id=outbox_id,
        topic=topic,
        key=row.user_id,
        event_type=event_type.value,
        payload=event.model_dump(mode="json"),
    )


def entitlement_view(row: UserEntitlement, pack_slug: str) -> dict[str, Any]:
    """The public shape of one entitlement (API responses and event data): ``EntitlementView``."""
    view = EntitlementView(
        entitlement_id=row.id,
        user_id=row.user_id,
        pack_id=row.catalog_id,
        pack_slug=pack_slug,
        status=EntitlementStatus(row.status),
        provider=row.source_provider,
        reference=row.purchase_reference,
        activation_date=row.activated_at,
        expiration_date=row.expires_at,
        reason=row.status_reason,
    )
    return view.model_dump(mode="json")


async def list_user_entitlements(session: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(UserEntitlement, BillingCatalog.slug)
        .join(BillingCatalog, BillingCatalog.id == UserEntitlement.catalog_id)
        .where(UserEntitlement.user_id == user_id)
        .order_by(UserEntitlement.activated_at, UserEntitlement.id)
    )
    return [entitlement_view(row, slug) for row, slug in rows.tuples()]
