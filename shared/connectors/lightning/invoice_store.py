"""Queries and writes on Lightning's tables (and the catalog/entitlement rows they refer to)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.connectors.lightning.delivery_targets import SettlementCheck
from shared.connectors.lightning.tables import LightningDelivery, LightningInvoice, LightningRefund
from shared.db.bundles import bundle_purchase_reference
from shared.db.catalog_models import BundleItem
from shared.db.models import BillingCatalog, BillingCatalogProvider, UserEntitlement
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.provider import Provider


async def lightning_listing(session: AsyncSession, catalog_id: uuid.UUID) -> BillingCatalogProvider | None:
    """How a pack is sold over Lightning: product id, price and currency (BTC = msat)."""
    return (
        await session.execute(
            select(BillingCatalogProvider)
            .where(
                BillingCatalogProvider.catalog_id == catalog_id,
                BillingCatalogProvider.provider == Provider.LIGHTNING.value,
            )
            .order_by(BillingCatalogProvider.provider_product_id)
            .limit(1)
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class RenewableGrant:
    """What a Lightning renewal extends: the purchase it renews, and when that access ends."""

    purchase_reference: str
    expires_at: datetime | None


async def renewable_grant(
    session: AsyncSession, user_id: str, catalog_id: uuid.UUID
) -> RenewableGrant | None:
    """The user's active Lightning grant of the pack, the one a renewal extends.

    A bundle's grant lives on its children, each under ``bundle:<slug>:<purchase reference>``: a
    renewal of the bundle renews that purchase, so its children are extended, not granted again.
    """
    active = select(UserEntitlement).where(
        UserEntitlement.user_id == user_id,
        UserEntitlement.source_provider == Provider.LIGHTNING.value,
        UserEntitlement.status == "active",
    )
    bundle_slug = await session.scalar(
        select(BillingCatalog.slug).where(
            BillingCatalog.id == catalog_id, exists().where(BundleItem.bundle_id == catalog_id)
        )
    )
    prefix = bundle_purchase_reference(bundle_slug, "") if bundle_slug is not None else ""
    if bundle_slug is None:
        active = active.where(UserEntitlement.catalog_id == catalog_id)
    else:
        active = active.where(UserEntitlement.purchase_reference.startswith(prefix, autoescape=True))
    newest = (
        await session.execute(active.order_by(UserEntitlement.expires_at.desc().nulls_first()).limit(1))
    ).scalar_one_or_none()
    if newest is None:
        return None
    return RenewableGrant(newest.purchase_reference.removeprefix(prefix), newest.expires_at)


async def invoice_for_check(
    session: AsyncSession, check: SettlementCheck, *, lock: bool
) -> LightningInvoice | None:
    stmt = select(LightningInvoice)
    if check.btcpay_invoice_id is not None:
        stmt = stmt.where(
            LightningInvoice.backend == "btcpay",
            LightningInvoice.provider_invoice_id == check.btcpay_invoice_id,
        )
    elif check.payment_hash is not None:
        stmt = stmt.where(LightningInvoice.payment_hash == check.payment_hash.lower())
    else:
        return None
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def invoice_by_id(
    session: AsyncSession, invoice_id: uuid.UUID, *, lock: bool
) -> LightningInvoice | None:
    stmt = select(LightningInvoice).where(LightningInvoice.id == invoice_id)
    return (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()


async def invoice_for_session(
    session: AsyncSession, checkout_session_id: uuid.UUID
) -> LightningInvoice | None:
    return (
        await session.execute(
            select(LightningInvoice)
            .where(LightningInvoice.checkout_session_id == checkout_session_id)
            .order_by(LightningInvoice.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def latest_settled_invoice(session: AsyncSession, purchase_reference: str) -> LightningInvoice | None:
    return (
        await session.execute(
            select(LightningInvoice)
            .where(
                LightningInvoice.purchase_reference == purchase_reference,
                LightningInvoice.status.in_(("settled", "refunded")),
            )
            .order_by(LightningInvoice.settled_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def claim_due_for_poll(session: AsyncSession, now: datetime, limit: int) -> list[LightningInvoice]:
    """Invoices whose next poll is due, locked so that parallel pollers split the work."""
    rows = await session.execute(
        select(LightningInvoice)
        .where(LightningInvoice.next_poll_at.is_not(None), LightningInvoice.next_poll_at <= now)
        .order_by(LightningInvoice.next_poll_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars().all())


async def postpone_poll(session: AsyncSession, invoice_ids: list[uuid.UUID], until: datetime) -> None:
    """Move the next poll of still-polled invoices to ``until`` (a settled one stays unpolled)."""
    await session.execute(
        update(LightningInvoice)
        .where(LightningInvoice.id.in_(invoice_ids), LightningInvoice.next_poll_at.is_not(None))
        .values(next_poll_at=until)
    )


async def record_delivery(
    session: AsyncSession, check: SettlementCheck, outcome: str, detail: dict[str, str]
) -> None:
    """Keep every delivery once by its dedupe key; a repeat only counts up ``times_seen``."""
    stmt = insert(LightningDelivery).values(
        dedupe_key=check.dedupe_key,
        source=check.source,
        event_type=check.event_type,
        invoice_ref=check.invoice_ref,
        outcome=outcome,
        times_seen=1,
        detail=detail,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[LightningDelivery.dedupe_key],
            set_={"times_seen": LightningDelivery.times_seen + 1, "outcome": stmt.excluded.outcome},
        )
    )


async def record_delivery_outcome(
    session: AsyncSession, check: SettlementCheck, updates: Sequence[EntitlementUpdate]
) -> None:
    """The delivery, with what its re-read led to, in the transaction that recorded the re-read."""
    outcome = ",".join(u.status.value for u in updates) or "no effect"
    await record_delivery(session, check, outcome, {"updates": ",".join(u.update_id for u in updates)})


async def refund_for_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> LightningRefund | None:
    stmt = select(LightningRefund).where(LightningRefund.invoice_id == invoice_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def refund_by_pull_payment(session: AsyncSession, pull_payment_id: str) -> LightningRefund | None:
    stmt = select(LightningRefund).where(LightningRefund.pull_payment_id == pull_payment_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def refund_by_id(session: AsyncSession, refund_id: uuid.UUID) -> LightningRefund | None:
    return (
        await session.execute(select(LightningRefund).where(LightningRefund.id == refund_id))
    ).scalar_one_or_none()
