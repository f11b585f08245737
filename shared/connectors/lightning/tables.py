"""Lightning's own tables: the invoices we issued, the deliveries we saw, the refunds we started."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base


class LightningInvoice(Base):
    """One invoice handed to a payer; ``amount_msat`` is the locked price the settlement must cover."""

    __tablename__ = "lightning_invoices"
    __table_args__ = (
        UniqueConstraint("backend", "provider_invoice_id"),
        Index(
            "ix_lightning_invoices_next_poll_at",
            "next_poll_at",
            postgresql_where=text("next_poll_at IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    checkout_session_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    backend: Mapped[str] = mapped_column(String(10), nullable=False)  # btcpay | nwc
    provider_invoice_id: Mapped[str] = mapped_column(String(200), nullable=False)
    payment_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    bolt11: Mapped[str] = mapped_column(Text, nullable=False)
    user_id: Mapped[str] = mapped_column(String(200), nullable=False)
    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_catalog.id"), nullable=False)
    provider_product_id: Mapped[str] = mapped_column(String(200), nullable=False)
    purchase_reference: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    amount_msat: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The fiat price and the oracle quote it was converted with (null for packs priced in BTC).
    fiat_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    fiat_currency: Mapped[str | None] = mapped_column(String(3))
    quote_id: Mapped[str | None] = mapped_column(String(64))
    quote_rate: Mapped[str | None] = mapped_column(String(40))  # Decimal as text
    lnurl_metadata: Mapped[str | None] = mapped_column(Text)
    # open | settled | partially_paid | paid_late | expired | invalid (| refunded once a payout completes)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    provider_status: Mapped[str | None] = mapped_column(String(30))
    provider_additional_status: Mapped[str | None] = mapped_column(String(30))
    amount_paid_msat: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Access this settlement grants until (null = no end); fixed at the first settlement seen.
    grants_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    poll_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LightningDelivery(Base):
    """Every provider delivery once, by its dedupe key; unknown event types are kept here too."""

    __tablename__ = "lightning_deliveries"

    dedupe_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), nullable=False)  # btcpay | alby | nwc | poll
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    invoice_ref: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(50), nullable=False)
    times_seen: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LightningRefund(Base):
    """A refund: a BTCPay pull payment the customer claims; ``processing`` until its payout completes."""

    __tablename__ = "lightning_refunds"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lightning_invoices.id"), nullable=False, unique=True
    )
    pull_payment_id: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    payout_id: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), nullable=False)  # processing | completed | cancelled
    view_link: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LightningReceipt(Base):
    """The proof of one settled invoice, as the payer or anyone can check it without us.

    ``proof`` is ``preimage`` when the back end revealed one that hashes to the payment hash, else
    ``confirmed_by_provider``; ``node_pubkey`` is the key that signed the BOLT11.
    """

    __tablename__ = "lightning_receipts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lightning_invoices.id"), nullable=False, unique=True
    )
    user_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    purchase_reference: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    backend: Mapped[str] = mapped_column(String(10), nullable=False)
    bolt11: Mapped[str] = mapped_column(Text, nullable=False)
    payment_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    preimage: Mapped[str | None] = mapped_column(String(64))
    proof: Mapped[str] = mapped_column(String(30), nullable=False)
    amount_msat: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the BOLT11's amount
    amount_paid_msat: Mapped[int] = mapped_column(BigInteger, nullable=False)
    node_pubkey: Mapped[str] = mapped_column(String(66), nullable=False)
    settled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
