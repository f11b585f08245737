"""What the adapter needs from a Lightning back end (BTCPay Server or Alby Hub over NWC)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.connectors.lightning.invoice_reading import ProviderReading
from shared.connectors.lightning.tables import LightningInvoice


@dataclass(frozen=True)
class InvoiceRequest:
    order_id: str
    amount_msat: int
    expiry_s: int
    description: str
    lnurl_metadata: str
    success_url: str | None
    item_code: str
    metadata: Mapping[str, str] = field(default_factory=dict)  # the client's, for the invoice


@dataclass(frozen=True)
class IssuedInvoice:
    """An invoice the provider created, already decoded and checked against the request."""

    provider_invoice_id: str
    bolt11: str
    payment_hash: str
    amount_msat: int
    expires_at: datetime


@dataclass(frozen=True)
class LnurlPayTerms:
    metadata: str
    min_sendable_msat: int
    max_sendable_msat: int


@dataclass(frozen=True)
class StartedRefund:
    pull_payment_id: str
    view_link: str | None


class LightningBackend(Protocol):
    name: str

    def invoice_amount_msat(self, amount_msat: int) -> int:
        """The amount the back end can invoice for a price of ``amount_msat`` (never less)."""

    async def create_invoice(self, request: InvoiceRequest) -> IssuedInvoice: ...

    async def read_invoice(self, invoice: LightningInvoice) -> ProviderReading: ...

    async def lnurl_terms(self, invoice: LightningInvoice) -> LnurlPayTerms: ...

    async def lnurl_invoice(self, invoice: LightningInvoice, amount_msat: int) -> str:
        """A BOLT11 for ``amount_msat`` whose description hash is sha256 of the terms' metadata."""

    async def start_refund(self, invoice: LightningInvoice, reason: str) -> StartedRefund: ...

    async def payout_state(self, pull_payment_id: str, payout_id: str) -> str: ...
