"""Lightning's truth for ``billing reconcile``: each purchase's newest invoice, re-read from its back end.

Report only: nothing here writes the invoice table (the poller and the webhooks do). A purchase is
what its newest settled invoice grants (until ``grants_until``; ``refunded`` revokes it), unless the
back end no longer reports that invoice settled; a newer invoice we still hold as open that the back
end reports settled (a lost webhook the poller has not caught yet) grants one more period.
"""

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from shared.connectors.base import ProviderResources
from shared.connectors.lightning.adapter import LightningAdapter
from shared.connectors.lightning.confirmation import DEFAULT_SUBSCRIPTION_PERIOD
from shared.connectors.lightning.invoice_reading import InvoiceStatus
from shared.connectors.lightning.periods import add_period
from shared.connectors.lightning.tables import LightningInvoice
from shared.db.models import BillingCatalog
from shared.domain.entitlements import EntitlementStatus
from shared.domain.packs import BillingKind
from shared.domain.reconciliation import ProviderTruth

GRANTING = ("settled", "refunded")


async def lightning_truth(
    user_id: str, adapter: LightningAdapter, resources: ProviderResources
) -> list[ProviderTruth]:
    async with resources.sessions() as session:
        invoices = (
            await session.execute(
                select(LightningInvoice, BillingCatalog)
                .join(BillingCatalog, BillingCatalog.id == LightningInvoice.catalog_id)
                .where(LightningInvoice.user_id == user_id, LightningInvoice.status.in_((*GRANTING, "open")))
                .order_by(LightningInvoice.created_at)
            )
        ).all()
        by_purchase: dict[str, list[tuple[LightningInvoice, BillingCatalog]]] = defaultdict(list)
        for invoice, pack in invoices:
            by_purchase[invoice.purchase_reference].append((invoice, pack))
    truth = []
    for history in by_purchase.values():
        fact = await _purchase_truth(adapter, history)
        if fact is not None:
            truth.append(fact)
    return truth


async def _purchase_truth(
    adapter: LightningAdapter, history: list[tuple[LightningInvoice, BillingCatalog]]
) -> ProviderTruth | None:
    settled = [(i, p) for i, p in history if i.status in GRANTING and i.settled_at is not None]
    newest = max(settled, key=lambda pair: pair[0].created_at, default=None)
    since = newest[0].created_at if newest is not None else None
    later_open = [(i, p) for i, p in history if i.status == "open" and (not since or i.created_at > since)]
    for invoice, pack in reversed(later_open):
        reading = await adapter.receipts.backend_for(invoice).read_invoice(invoice)
        if reading.status is InvoiceStatus.SETTLED:
            paid_at = reading.settled_at or datetime.now(UTC)
            start = paid_at
            if newest is not None and newest[0].grants_until is not None:
                start = max(start, newest[0].grants_until)  # a renewal extends the access it renews
            return _granted(invoice, pack, paid_at, _period_end(pack, start))
    if newest is None:
        return None
    invoice, pack = newest
    assert invoice.settled_at is not None
    if invoice.status == "refunded":
        return _truth(invoice, EntitlementStatus.REVOKED, invoice.updated_at, None, "refunded")
    reading = await adapter.receipts.backend_for(invoice).read_invoice(invoice)
    if reading.status is not InvoiceStatus.SETTLED:
        reason = f"{adapter.receipts.backend_for(invoice).name} reports the invoice {reading.status.value}"
        return _truth(invoice, EntitlementStatus.REVOKED, invoice.settled_at, invoice.grants_until, reason)
    return _granted(invoice, pack, invoice.settled_at, invoice.grants_until)


def _granted(
    invoice: LightningInvoice, pack: BillingCatalog, paid_at: datetime, until: datetime | None
) -> ProviderTruth:
    if until is not None and until <= datetime.now(UTC):
        return _truth(invoice, EntitlementStatus.EXPIRED, until, until, "expired")
    return _truth(invoice, EntitlementStatus.ACTIVE, paid_at, until, None)


def _period_end(pack: BillingCatalog, start: datetime) -> datetime | None:
    if pack.billing_kind == BillingKind.SUBSCRIPTION.value:
        return add_period(start, pack.billing_period or DEFAULT_SUBSCRIPTION_PERIOD)
    return add_period(start, pack.billing_period) if pack.billing_period else None


def _truth(
    invoice: LightningInvoice,
    status: EntitlementStatus,
    observed_at: datetime,
    expires_at: datetime | None,
    reason: str | None,
) -> ProviderTruth:
    return ProviderTruth(
        user_id=invoice.user_id,
        provider_product_id=invoice.provider_product_id,
        purchase_reference=invoice.purchase_reference,
        status=status,
        observed_at=observed_at,
        expires_at=expires_at,
        reason=reason,
    )
