"""Alby Hub back end over Nostr Wallet Connect: ``make_invoice`` with the LNURL description hash,
``lookup_invoice`` re-reads. NWC has no refunds: money goes back by paying the customer's invoice."""

from datetime import UTC, datetime

from shared.connectors.lightning.backends import InvoiceRequest, IssuedInvoice, LnurlPayTerms, StartedRefund
from shared.connectors.lightning.bolt11_invoices import (
    InvalidInvoiceError,
    InvoiceMismatchError,
    check_invoice,
    decode_invoice,
)
from shared.connectors.lightning.invoice_reading import ProviderReading, read_nwc
from shared.connectors.lightning.lnurl_pay import description_hash
from shared.connectors.lightning.nwc.client import PROVIDER, NwcClient
from shared.connectors.lightning.tables import LightningInvoice
from shared.domain.errors import ProviderError


class NwcBackend:
    name = "nwc"

    def __init__(self, client: NwcClient) -> None:
        self._client = client

    def invoice_amount_msat(self, amount_msat: int) -> int:
        return amount_msat

    async def create_invoice(self, request: InvoiceRequest) -> IssuedInvoice:
        # One invoice serves both the plain BOLT11 and LNURL-pay: its h is sha256 of the metadata.
        metadata_hash = description_hash(request.lnurl_metadata)
        made = await self._client.make_invoice(
            request.amount_msat, request.expiry_s, description=None, description_hash=metadata_hash
        )
        if made.invoice is None:
            raise ProviderError(PROVIDER, "make_invoice answered without an invoice", retryable=False)
        expires_at = datetime.fromtimestamp(made.expires_at, tz=UTC) if made.expires_at else None
        try:
            decoded = decode_invoice(made.invoice)
            check_invoice(
                decoded,
                amount_msat=request.amount_msat,
                payment_hash=made.payment_hash,
                expires_at=expires_at,
                description_hash=metadata_hash,
            )
        except (InvalidInvoiceError, InvoiceMismatchError) as exc:
            raise ProviderError(PROVIDER, f"BOLT11 refused: {exc}", retryable=False) from exc
        return IssuedInvoice(
            made.payment_hash, decoded.bolt11, decoded.payment_hash, request.amount_msat, decoded.expires_at
        )

    async def read_invoice(self, invoice: LightningInvoice) -> ProviderReading:
        found = await self._client.lookup_invoice(invoice.payment_hash)
        return read_nwc(
            found,
            payment_hash=invoice.payment_hash,
            amount_msat=invoice.amount_msat,
            expires_at=invoice.expires_at,
        )

    async def lnurl_terms(self, invoice: LightningInvoice) -> LnurlPayTerms:
        if invoice.lnurl_metadata is None:
            raise ProviderError(PROVIDER, "invoice was issued without LNURL metadata", retryable=False)
        return LnurlPayTerms(invoice.lnurl_metadata, invoice.amount_msat, invoice.amount_msat)

    async def lnurl_invoice(self, invoice: LightningInvoice, amount_msat: int) -> str:
        if amount_msat != invoice.amount_msat:
            raise ProviderError(PROVIDER, f"amount must be {invoice.amount_msat} msat", retryable=False)
        return invoice.bolt11

    async def start_refund(self, invoice: LightningInvoice, reason: str) -> StartedRefund:
        raise ProviderError(
            PROVIDER, "refunds over NWC need the customer's own invoice to pay", retryable=False
        )

    async def payout_state(self, pull_payment_id: str, payout_id: str) -> str:
        raise ProviderError(PROVIDER, "NWC has no payouts", retryable=False)
