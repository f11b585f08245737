"""The entitlement ledger: applies provider updates idempotently and records the events to announce.

A batch of updates is decided in memory, exactly as applying them one after another would: each
update is claimed once (``processed_events``), then the domain's rule (shared/domain/ledger.py)
says what it does to each entitlement it targets — an older one changes nothing — and every
transition announces its event with the state it left. Only the
writes are batched: one statement per table (shared/db/ledger_writes.py), in the caller's
transaction, so the ledger, its history, its outbox rows and its audit rows commit (or roll back)
together. Every update taken in gets a history row, an older one too: it changes only the past.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.audit_log import append_audit_rows
from shared.db.bundles import bundle_leaves, bundle_purchase_reference
from shared.db.catalog import UnknownProductError
from shared.db.catalog_models import BundleItem
from shared.db.entitlement_views import entitlement_view
from shared.db.ledger_writes import (
    HistoryEntry,
    LedgerEntitlement,
    OutboxEvent,
    claim_events,
    insert_history,
    insert_outbox,
    upsert_entitlements,
)
from shared.db.models import BillingCatalog, BillingCatalogProvider, UserEntitlement
from shared.domain.audit import AuditEntry, audit_row_values, user_subject
from shared.domain.cloudevents import CloudEvent
from shared.domain.entitlements import EntitlementEventType, EntitlementStatus, EntitlementUpdate
from shared.domain.ledger import EntitlementState, decide

__all__ = [
    "apply_entitlement_update",
    "apply_entitlement_updates",
    "entitlement_view",
    "list_user_entitlements",
]

LEDGER_COLUMNS = (
    "id", "user_id", "catalog_id", "source_provider", "purchase_reference", "status", "activated_at",
    "expires_at", "last_event_at", "status_reason",
)  # fmt: skip
# (user, catalog id, provider, purchase reference): the ledger's unique key of one entitlement.
EntitlementKey = tuple[str, uuid.UUID, str, str]


async def apply_entitlement_update(
    session: AsyncSession, update: EntitlementUpdate, entitlements_topic: str
) -> EntitlementEventType | None:
    """Apply one update inside the caller's transaction; returns the event it announced, if any."""
    return (await apply_entitlement_updates(session, [update], entitlements_topic))[0]


async def apply_entitlement_updates(
    session: AsyncSession, updates: Sequence[EntitlementUpdate], entitlements_topic: str
) -> list[EntitlementEventType | None]:
    """Apply ``updates`` in order inside the caller's transaction; the event each announced, if any.

    Duplicates (same provider and ``update_id``, in the batch or before it) and updates older than
    the stored state change nothing. Raises ``UnknownProductError`` for a product no pack maps.
    """
    keys = list(dict.fromkeys((u.provider.value, u.update_id) for u in updates))
    claimed = await claim_events(session, keys)
    fresh: list[EntitlementUpdate | None] = []
    for update in updates:
        key = (update.provider.value, update.update_id)
        fresh.append(update if key in claimed else None)
        claimed.discard(key)  # a second copy in the batch is a duplicate
    batch = _Batch(entitlements_topic)
    todo = [u for u in fresh if u is not None]
    if todo:
        await batch.load(session, todo)
    announced = [batch.apply(update) if update is not None else None for update in fresh]
    await upsert_entitlements(session, list(batch.changed.values()))
    await insert_history(session, batch.history)
    await insert_outbox(session, batch.outbox)
    await append_audit_rows(session, batch.audit)
    return announced


@dataclass
class _Batch:
    """What a batch reads once (packs, bundle leaves, entitlements) and what it will write."""

    topic: str
    packs: dict[tuple[str, str], BillingCatalog] = field(default_factory=dict)
    leaves: dict[uuid.UUID, list[BillingCatalog]] = field(default_factory=dict)
    catalog: dict[uuid.UUID, BillingCatalog] = field(default_factory=dict)
    ledger: dict[EntitlementKey, LedgerEntitlement] = field(default_factory=dict)
    changed: dict[EntitlementKey, LedgerEntitlement] = field(default_factory=dict)
    outbox: list[OutboxEvent] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    async def load(self, session: AsyncSession, updates: Sequence[EntitlementUpdate]) -> None:
        products = list(dict.fromkeys((u.provider.value, u.provider_product_id) for u in updates))
        rows = await session.execute(
            select(
                BillingCatalogProvider.provider, BillingCatalogProvider.provider_product_id, BillingCatalog
            )
            .join(BillingCatalog, BillingCatalog.id == BillingCatalogProvider.catalog_id)
            .where(
                tuple_(BillingCatalogProvider.provider, BillingCatalogProvider.provider_product_id).in_(
                    products
                )
            )
        )
        self.packs = {(provider, product): pack for provider, product, pack in rows}
        for update in updates:  # the first unknown product in order fails the batch, as one by one
            if (update.provider.value, update.provider_product_id) not in self.packs:
                raise UnknownProductError(
                    f"no pack maps {update.provider.value} product {update.provider_product_id!r}"
                )
        self.catalog = {pack.id: pack for pack in self.packs.values()}
        bundles = set(
            (
                await session.execute(
                    select(BundleItem.bundle_id)
                    .where(BundleItem.bundle_id.in_(list(self.catalog)))
                    .distinct()
                )
            ).scalars()
        )
        for bundle_id in bundles:
            self.leaves[bundle_id] = await bundle_leaves(session, bundle_id)
            self.catalog.update({leaf.id: leaf for leaf in self.leaves[bundle_id]})
        await self._load_ledger(session, updates)

    async def _load_ledger(self, session: AsyncSession, updates: Sequence[EntitlementUpdate]) -> None:
        owners = list(dict.fromkeys((u.user_id, u.provider.value, self._reference(u)) for u in updates))
        table = UserEntitlement.__table__
        # Core rows, not ORM objects: the batch writes with Core, so nothing stale stays in the session.
        rows = await session.execute(
            select(*(table.c[name] for name in LEDGER_COLUMNS))
            .where(tuple_(table.c.user_id, table.c.source_provider, table.c.purchase_reference).in_(owners))
            .order_by(table.c.id)
            .with_for_update()
        )
        for row in rows:
            state = LedgerEntitlement(*row)
            key = (state.user_id, state.catalog_id, state.source_provider, state.purchase_reference)
            self.ledger[key] = state
        # Children a bundle purchase granted before the bundle's composition changed stay reachable.
        missing = {key[1] for key in self.ledger} - set(self.catalog)
        if missing:
            packs = await session.execute(select(BillingCatalog).where(BillingCatalog.id.in_(missing)))
            self.catalog.update({pack.id: pack for pack in packs.scalars()})

    def _pack(self, update: EntitlementUpdate) -> BillingCatalog:
        return self.packs[(update.provider.value, update.provider_product_id)]

    def _reference(self, update: EntitlementUpdate) -> str:
        pack = self._pack(update)
        if pack.id in self.leaves:
            return bundle_purchase_reference(pack.slug, update.purchase_reference)
        return update.purchase_reference

    def _targets(self, update: EntitlementUpdate) -> list[tuple[BillingCatalog, str]]:
        """Which (pack, purchase reference) entitlements the update changes (see shared/db/bundles.py)."""
        pack = self._pack(update)
        leaves = self.leaves.get(pack.id)
        if not leaves:
            return [(pack, update.purchase_reference)]
        reference = self._reference(update)
        targets = {leaf.id: leaf for leaf in leaves}
        for user, catalog_id, provider, ref in self.ledger:
            if (user, provider, ref) == (update.user_id, update.provider.value, reference):
                targets.setdefault(catalog_id, self.catalog[catalog_id])
        return [(child, reference) for child in targets.values()]

    def apply(self, update: EntitlementUpdate) -> EntitlementEventType | None:
        announced: EntitlementEventType | None = None
        for target, reference in self._targets(update):
            event_type = self._apply_to(update, target, reference)  # every target, announced or not
            announced = announced or event_type
        return announced

    def _apply_to(
        self, update: EntitlementUpdate, pack: BillingCatalog, reference: str
    ) -> EntitlementEventType | None:
        key = (update.user_id, pack.id, update.provider.value, reference)
        row = self.ledger.get(key)
        previous = _state_of(row) if row is not None else None
        decision = decide(previous, update)
        if decision is None:
            assert row is not None  # only an existing entitlement can be newer than an update
            self.history.append(_history_entry(update, row, applied=False, announced=None))
            return None
        if row is None:
            row = LedgerEntitlement(
                uuid.uuid4(), update.user_id, pack.id, update.provider.value, reference, "", None, None,
                update.occurred_at, None,
            )  # fmt: skip
            self.ledger[key] = row
        state, event_type = decision.state, decision.announced
        row.status = state.status.value
        row.activated_at = state.activated_at
        row.expires_at = state.expires_at
        row.last_event_at = state.last_event_at
        row.status_reason = state.reason
        row.updated_at = datetime.now(UTC)
        self.changed[key] = row
        self.history.append(_history_entry(update, row, applied=True, announced=event_type))
        self.audit.append(
            audit_row_values(
                _audit_entry(update, pack, reference, previous.status if previous else None, event_type)
            )
        )
        if event_type is not None:
            self.outbox.append(_outbox_event(self.topic, event_type, row, pack, update))
        return event_type


def _state_of(row: LedgerEntitlement) -> EntitlementState:
    return EntitlementState(
        EntitlementStatus(row.status), row.activated_at, row.expires_at, row.last_event_at, row.status_reason
    )


def _history_entry(
    update: EntitlementUpdate,
    row: LedgerEntitlement,
    *,
    applied: bool,
    announced: EntitlementEventType | None,
) -> HistoryEntry:
    """An applied update's row is the ledger's new state; a late one's, what it says held from its time."""
    activated_at = row.activated_at
    if not applied:
        started = row.activated_at is not None and row.activated_at <= update.occurred_at
        activated_at = update.activated_at or (row.activated_at if started else update.occurred_at)
    return HistoryEntry(
        row.id, row.user_id, row.catalog_id, row.source_provider, row.purchase_reference,
        update.status.value, activated_at, update.expires_at, update.reason, update.update_id,
        update.provider_event_type, update.occurred_at, applied, announced.value if announced else None,
    )  # fmt: skip


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


def _outbox_event(
    topic: str,
    event_type: EntitlementEventType,
    row: LedgerEntitlement,
    pack: BillingCatalog,
    update: EntitlementUpdate,
) -> OutboxEvent:
    outbox_id = uuid.uuid4()
    event = CloudEvent(
        id=str(outbox_id),
        type=event_type.value,
        subject=row.user_id,
        time=datetime.now(UTC),
        data=entitlement_view(row, pack.slug) | {"provider_event_id": update.update_id},
    )
    return OutboxEvent(outbox_id, topic, row.user_id, event_type.value, event.model_dump(mode="json"))


async def list_user_entitlements(session: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(UserEntitlement, BillingCatalog.slug)
        .join(BillingCatalog, BillingCatalog.id == UserEntitlement.catalog_id)
        .where(UserEntitlement.user_id == user_id)
        .order_by(UserEntitlement.activated_at, UserEntitlement.id)
    )
    return [entitlement_view(row, slug) for row, slug in rows]
