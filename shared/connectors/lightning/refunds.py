"""Refunds: start one (a BTCPay pull payment, ``processing``), and revoke when its payout completes.

The revocation waits for the payout: until the money has left, the refund is only an offer the
customer may never claim. The payout state is re-read from BTCPay, never taken from the webhook.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.lightning import invoice_store
from shared.connectors.lightning.backends import LightningBackend
from shared.connectors.lightning.delivery_targets import SettlementCheck
from shared.connectors.lightning.tables import LightningInvoice, LightningRefund
from shared.db.unit_of_work import unit_of_work
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.errors import ProviderError
from shared.domain.provider import Provider

PAYOUT_DONE, PAYOUT_CANCELLED = "Completed", "Cancelled"


class RefundNotPossibleError(LookupError):
    """No settled Lightning purchase with that reference (for that user)."""


@dataclass(frozen=True)
class RefundView:
    id: uuid.UUID
    purchase_reference: str
    state: str  # processing | completed | cancelled
    pull_payment_id: str
    view_link: str | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "refundId": str(self.id),
            "purchaseReference": self.purchase_reference,
            "status": self.state,
            "pullPaymentId": self.pull_payment_id,
            "claimLink": self.view_link,
        }


class Refunds:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], backends: Mapping[str, LightningBackend]
    ) -> None:
        self._sessions = sessions
        self._backends = backends

    async def start(self, user_id: str | None, purchase_reference: str, reason: str) -> RefundView:
        """Refund the latest settled invoice of the purchase; starting twice returns the same refund.

        The invoice row stays locked from the check to the insert, across the back end's call: two
        concurrent starts would otherwise both see no refund and create two pull payments. A start
        that fails rolls back and leaves nothing behind, so pressing again simply retries.
        """
        async with unit_of_work(self._sessions) as session:
            settled = await invoice_store.latest_settled_invoice(session, purchase_reference)
            if settled is None or (user_id is not None and settled.user_id != user_id):
                raise RefundNotPossibleError(f"no settled Lightning purchase {purchase_reference!r}")
            invoice = await invoice_store.invoice_by_id(session, settled.id, lock=True)
            assert invoice is not None
            existing = await invoice_store.refund_for_invoice(session, invoice.id)
            if existing is not None:
                return _view(existing, invoice)
            backend = self._backends.get(invoice.backend)
            if backend is None:
                message = f"back end {invoice.backend} is not configured"
                raise ProviderError("lightning", message, retryable=True)
            started = await backend.start_refund(invoice, reason)
            refund = LightningRefund(
                id=uuid.uuid4(),
                invoice_id=invoice.id,
                pull_payment_id=started.pull_payment_id,
                state="processing",
                view_link=started.view_link,
                reason=reason,
            )
            session.add(refund)
        return _view(refund, invoice)

    async def view(self, refund_id: uuid.UUID) -> RefundView | None:
        async with self._sessions() as session:
            refund = await invoice_store.refund_by_id(session, refund_id)
            if refund is None:
                return None
            invoice = await invoice_store.invoice_by_id(session, refund.invoice_id, lock=False)
            assert invoice is not None
            return _view(refund, invoice)

    async def validate_payout(self, check: SettlementCheck) -> list[EntitlementUpdate]:
        """Re-read the payout; a completed one finishes the refund and revokes the entitlement."""
        assert check.pull_payment_id is not None and check.payout_id is not None
        async with self._sessions() as session:
            refund = await invoice_store.refund_by_pull_payment(session, check.pull_payment_id)
            invoice = (
                await invoice_store.invoice_by_id(session, refund.invoice_id, lock=False) if refund else None
            )
        if invoice is None:
            async with unit_of_work(self._sessions) as session:
                await invoice_store.record_delivery_outcome(session, check, [])
            return []
        backend = self._backends.get(invoice.backend)
        if backend is None:
            raise ProviderError("lightning", f"back end {invoice.backend} is not configured", retryable=True)
        state = await backend.payout_state(check.pull_payment_id, check.payout_id)
        async with unit_of_work(self._sessions) as session:
            refund = await invoice_store.refund_by_pull_payment(session, check.pull_payment_id)
            locked = await invoice_store.invoice_by_id(session, invoice.id, lock=True)
            assert refund is not None and locked is not None
            refund.payout_id = check.payout_id
            refund.updated_at = datetime.now(UTC)
            if state == PAYOUT_CANCELLED and refund.state == "processing":
                refund.state = "cancelled"
            updates = []
            if state == PAYOUT_DONE:
                refund.state = "completed"
                locked.status = "refunded"
                updates.append(_revocation(locked, refund.updated_at))
            await invoice_store.record_delivery_outcome(session, check, updates)
            return updates


def _revocation(invoice: LightningInvoice, at: datetime) -> EntitlementUpdate:
    return EntitlementUpdate(
        update_id=f"lightning:{invoice.payment_hash}:refunded",
        provider=Provider.LIGHTNING,
        provider_event_type="refund_completed",
        user_id=invoice.user_id,
        provider_product_id=invoice.provider_product_id,
        purchase_reference=invoice.purchase_reference,
        status=EntitlementStatus.REVOKED,
        occurred_at=at,
        reason="refunded",
    )


def _view(refund: LightningRefund, invoice: LightningInvoice) -> RefundView:
    return RefundView(
        refund.id, invoice.purchase_reference, refund.state, refund.pull_payment_id, refund.view_link
    )
