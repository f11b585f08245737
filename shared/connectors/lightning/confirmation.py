"""Settlement from a provider re-read: invoice state recorded, the activation announced once.

A delivery only says *which* invoice to look at. The re-read decides; its outcome is written to
the invoice row and, for a settlement, becomes one ``EntitlementUpdate`` whose id is derived from
the payment hash, so webhooks, redeliveries, notifications and polls all collapse into one effect.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.lightning import invoice_store, receipts
from shared.connectors.lightning.backends import LightningBackend
from shared.connectors.lightning.delivery_targets import SettlementCheck
from shared.connectors.lightning.invoice_reading import InvoiceStatus, ProviderReading
from shared.connectors.lightning.periods import add_period
from shared.connectors.lightning.tables import LightningInvoice
from shared.db.models import BillingCatalog
from shared.db.unit_of_work import unit_of_work
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.errors import ProviderError
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider
from shared.messaging.telemetry import TelemetryPublisher, TelemetryType, fact_id

log = structlog.get_logger(__name__)
DEFAULT_SUBSCRIPTION_PERIOD = "P1M"
FINAL_STATUSES = ("settled", "refunded")


class ReceiptValidator:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        backends: Mapping[str, LightningBackend],
        telemetry: TelemetryPublisher | None = None,
    ) -> None:
        self._sessions = sessions
        self._backends = backends
        self._telemetry = telemetry

    async def validate(self, check: SettlementCheck) -> list[EntitlementUpdate]:
        async with self._sessions() as session:
            invoice = await invoice_store.invoice_for_check(session, check, lock=False)
        if invoice is None:
            async with unit_of_work(self._sessions) as session:
                await invoice_store.record_delivery_outcome(session, check, [])
            return []
        # A settled or refunded invoice is final (record_reading keeps it): a repeat of its settlement
        # — a webhook retry, the poll's observation queued behind a backlog — needs no provider read.
        reading = (
            None
            if invoice.status in FINAL_STATUSES
            else await self.backend_for(invoice).read_invoice(invoice)
        )
        async with unit_of_work(self._sessions) as session:
            locked = await invoice_store.invoice_by_id(session, invoice.id, lock=True)
            assert locked is not None
            before = locked.status
            if reading is not None:
                await record_reading(session, locked, reading)
            expired = before != locked.status == InvoiceStatus.EXPIRED.value
            pack = await session.get(BillingCatalog, locked.catalog_id) if expired else None
            updates = [settlement_update(locked)] if locked.status in FINAL_STATUSES else []
            await invoice_store.record_delivery_outcome(session, check, updates)
        if expired:
            self._announce_expiry(locked, pack.slug if pack else "")
        return updates

    def _announce_expiry(self, invoice: LightningInvoice, pack_slug: str) -> None:
        """Telemetry: the invoice expired unpaid, once it is recorded (whether or not anyone looks at
        its page). The id is the checkout's fact id, as the invoice page's, so the rollup counts it once."""
        if self._telemetry is None:
            return
        checkout_id = str(invoice.checkout_session_id)
        self._telemetry.emit(
            TelemetryType.INVOICE_EXPIRED,
            {"checkoutId": checkout_id, "pack": pack_slug, "provider": Provider.LIGHTNING.value},
            user_id=invoice.user_id,
            event_id=fact_id(TelemetryType.INVOICE_EXPIRED.value, checkout_id),
        )

    def backend_for(self, invoice: LightningInvoice) -> LightningBackend:
        backend = self._backends.get(invoice.backend)
        if backend is None:
            # Retryable: the invoice waits (dead letter after bounded retries) until it is configured.
            raise ProviderError("lightning", f"back end {invoice.backend} is not configured", retryable=True)
        return backend


async def record_reading(session: AsyncSession, invoice: LightningInvoice, reading: ProviderReading) -> None:
    """Write what the provider said; a settled invoice never goes back to a lesser state."""
    now = datetime.now(UTC)
    if invoice.status in FINAL_STATUSES:
        return
    previous = invoice.status
    invoice.status = reading.status.value
    invoice.provider_status = reading.provider_status
    invoice.provider_additional_status = reading.additional_status
    invoice.amount_paid_msat = reading.amount_paid_msat
    invoice.updated_at = now
    if reading.status is InvoiceStatus.SETTLED:
        invoice.settled_at = reading.settled_at or now
        invoice.grants_until = await _grants_until(session, invoice, invoice.settled_at)
        invoice.next_poll_at = None
        await receipts.record_receipt(session, invoice, reading)
    elif reading.status in (InvoiceStatus.EXPIRED, InvoiceStatus.INVALID, InvoiceStatus.PAID_LATE):
        invoice.next_poll_at = None
    if previous != invoice.status:
        log.info(
            "lightning_invoice_status",
            invoice_id=str(invoice.id),
            status=invoice.status,
            previous=previous,
            provider_status=reading.provider_status,
            additional_status=reading.additional_status,
            amount_paid_msat=invoice.amount_paid_msat,
            proof=reading.proof.value if reading.proof else None,
        )


async def _grants_until(
    session: AsyncSession, invoice: LightningInvoice, settled_at: datetime
) -> datetime | None:
    """One period from settlement; a renewal extends the access it renews, never shortens it."""
    pack = await session.get(BillingCatalog, invoice.catalog_id)
    if pack is None:
        raise LookupError(f"pack {invoice.catalog_id} of invoice {invoice.id} is gone")
    if pack.billing_kind != BillingKind.SUBSCRIPTION.value:
        return add_period(settled_at, pack.billing_period) if pack.billing_period else None
    start = settled_at
    current = await invoice_store.renewable_grant(session, invoice.user_id, invoice.catalog_id)
    renewing = current is not None and current.purchase_reference == invoice.purchase_reference
    if renewing and current is not None and current.expires_at is not None and current.expires_at > start:
        start = current.expires_at
    return add_period(start, pack.billing_period or DEFAULT_SUBSCRIPTION_PERIOD)


def settlement_update(invoice: LightningInvoice) -> EntitlementUpdate:
    """The activation (or renewal) a settled invoice grants; its id is the payment hash."""
    assert invoice.settled_at is not None
    first_purchase = invoice.purchase_reference == invoice.payment_hash
    return EntitlementUpdate(
        update_id=f"lightning:{invoice.payment_hash}:settled",
        provider=Provider.LIGHTNING,
        provider_event_type=f"invoice_settled:{invoice.backend}",
        user_id=invoice.user_id,
        provider_product_id=invoice.provider_product_id,
        purchase_reference=invoice.purchase_reference,
        status=EntitlementStatus.ACTIVE,
        occurred_at=invoice.settled_at,
        activated_at=invoice.settled_at if first_purchase else None,
        expires_at=invoice.grants_until,
    )
