"""Receipts of settled Lightning invoices: written with the settlement, read back as a document
anyone can verify offline (``receipt_proof.verify_receipt``): sha256(preimage) = payment hash, and the
BOLT11's signature against the node key."""

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.connectors.lightning.bolt11_invoices import decode_invoice
from shared.connectors.lightning.invoice_reading import Proof, ProviderReading
from shared.connectors.lightning.tables import LightningInvoice, LightningReceipt

log = structlog.get_logger(__name__)
RECEIPT_VERSION = 1


async def record_receipt(session: AsyncSession, invoice: LightningInvoice, reading: ProviderReading) -> None:
    """The receipt of a settlement, in the transaction that records it; once per invoice."""
    assert invoice.settled_at is not None
    # The BOLT11 actually paid (LNURL-pay mints its own); its signer is the payee.
    decoded = decode_invoice(reading.paid_bolt11 or invoice.bolt11)
    if decoded.payee is None:
        raise ValueError(f"invoice {invoice.id} has no recoverable payee")
    proof = reading.proof or Proof.CONFIRMED_BY_PROVIDER
    stmt = insert(LightningReceipt).values(
        invoice_id=invoice.id,
        user_id=invoice.user_id,
        purchase_reference=invoice.purchase_reference,
        backend=invoice.backend,
        bolt11=decoded.bolt11,
        payment_hash=decoded.payment_hash,
        preimage=reading.preimage if proof is Proof.PREIMAGE else None,
        proof=proof.value,
        amount_msat=decoded.amount_msat if decoded.amount_msat is not None else invoice.amount_msat,
        amount_paid_msat=reading.amount_paid_msat,
        node_pubkey=decoded.payee,
        settled_at=invoice.settled_at,
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[LightningReceipt.invoice_id]))
    log.info("lightning_receipt_recorded", invoice_id=str(invoice.id), proof=proof.value)


async def receipts_for(
    session: AsyncSession, purchase_reference: str, *, user_id: str | None
) -> Sequence[LightningReceipt]:
    """A purchase's receipts (a subscription has one per settled period), oldest first; only the
    user's own when ``user_id`` is given."""
    stmt = select(LightningReceipt).where(LightningReceipt.purchase_reference == purchase_reference)
    if user_id is not None:
        stmt = stmt.where(LightningReceipt.user_id == user_id)
    return (await session.execute(stmt.order_by(LightningReceipt.settled_at))).scalars().all()


def receipt_json(receipt: LightningReceipt) -> dict[str, Any]:
    return {
        "version": RECEIPT_VERSION,
        "purchaseReference": receipt.purchase_reference,
        "backend": receipt.backend,
        "bolt11": receipt.bolt11,
        "paymentHash": receipt.payment_hash,
        "preimage": receipt.preimage,
        "proof": receipt.proof,
        "amountMsat": receipt.amount_msat,
        "amountPaidMsat": receipt.amount_paid_msat,
        "nodePubkey": receipt.node_pubkey,
        "settledAt": receipt.settled_at.isoformat(),
    }
