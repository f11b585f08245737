"""BTCPay Server back end: Greenfield invoices (BTC-LN + BTC-LNURL), re-reads, refunds as pull payments."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from shared.connectors.lightning.backends import InvoiceRequest, IssuedInvoice, LnurlPayTerms, StartedRefund
from shared.connectors.lightning.bolt11_invoices import (
    DecodedInvoice,
    InvalidInvoiceError,
    InvoiceMismatchError,
    check_invoice,
    decode_invoice,
)
from shared.connectors.lightning.btcpay.client import PROVIDER, BtcpayClient
from shared.connectors.lightning.btcpay.webhook_events import normalize_payment_method_id
from shared.connectors.lightning.invoice_reading import ProviderReading, read_btcpay
from shared.connectors.lightning.lnurl_pay import description_hash
from shared.connectors.lightning.pricing.conversion import MSAT_PER_BTC, round_up_to_sat
from shared.connectors.lightning.tables import LightningInvoice
from shared.domain.errors import ProviderError
from shared.settings import Settings


class BtcpayBackend:
    name = "btcpay"

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self._client = BtcpayClient(
            http,
            settings.btcpay_base_url,
            settings.btcpay_store_id,
            settings.btcpay_api_key.get_secret_value(),
        )

    def invoice_amount_msat(self, amount_msat: int) -> int:
        return round_up_to_sat(amount_msat)  # BTCPay prices in BTC with 8 decimals

    async def create_invoice(self, request: InvoiceRequest) -> IssuedInvoice:
        created = await self._client.create_invoice(
            amount_btc=Decimal(request.amount_msat) / MSAT_PER_BTC,
            metadata={  # the client's metadata; ours win (orderId ties the invoice to the session)
                **request.metadata,
                "orderId": request.order_id,
                "itemDesc": request.description,
                "itemCode": request.item_code,
            },
            checkout={
                "paymentMethods": ["BTC-LN", "BTC-LNURL"],
                "expirationMinutes": request.expiry_s / 60,
                "redirectURL": request.success_url,
            },
        )
        invoice_id = str(created["id"])
        expires_at = datetime.fromtimestamp(int(created["expirationTime"]), tz=UTC)
        bolt11 = _destination(await self._client.get_payment_methods(invoice_id), "BTC-LN")
        decoded = _checked(bolt11, amount_msat=request.amount_msat, expires_at=expires_at)
        return IssuedInvoice(
            invoice_id, decoded.bolt11, decoded.payment_hash, request.amount_msat, expires_at
        )

    async def read_invoice(self, invoice: LightningInvoice) -> ProviderReading:
        found = await self._client.get_invoice(invoice.provider_invoice_id)
        methods = await self._client.get_payment_methods(invoice.provider_invoice_id)
        return read_btcpay(found, methods)

    async def lnurl_terms(self, invoice: LightningInvoice) -> LnurlPayTerms:
        pay_request = await self._pay_request(invoice)
        return LnurlPayTerms(
            metadata=str(pay_request["metadata"]),
            min_sendable_msat=int(pay_request["minSendable"]),
            max_sendable_msat=int(pay_request["maxSendable"]),
        )

    async def lnurl_invoice(self, invoice: LightningInvoice, amount_msat: int) -> str:
        pay_request = await self._pay_request(invoice)
        answer = await self._client.lnurl_callback(str(pay_request["callback"]), amount_msat)
        decoded = _checked(
            str(answer.get("pr", "")),
            amount_msat=amount_msat,
            description_hash=description_hash(str(pay_request["metadata"])),
        )
        return decoded.bolt11

    async def _pay_request(self, invoice: LightningInvoice) -> dict[str, Any]:
        lnurl = _destination(await self._client.get_payment_methods(invoice.provider_invoice_id), "BTC-LNURL")
        return await self._client.lnurl_pay_request(lnurl)

    async def start_refund(self, invoice: LightningInvoice, reason: str) -> StartedRefund:
        pull_payment = await self._client.refund_invoice(invoice.provider_invoice_id, reason=reason)
        return StartedRefund(str(pull_payment["id"]), pull_payment.get("viewLink"))

    async def payout_state(self, pull_payment_id: str, payout_id: str) -> str:
        payout = await self._client.get_payout(pull_payment_id, payout_id)
        return str(payout.get("state"))


def _destination(methods: list[dict[str, Any]], wanted: str) -> str:
    """The destination of a payment method; 1.x ``paymentMethod`` names are accepted too."""
    for method in methods:
        method_id = normalize_payment_method_id(method.get("paymentMethodId") or method.get("paymentMethod"))
        if method_id == wanted and method.get("destination"):
            return str(method["destination"])
    raise ProviderError(PROVIDER, f"invoice has no {wanted} destination (not activated?)", retryable=True)


def _checked(bolt11: str, **expected: Any) -> DecodedInvoice:
    try:
        decoded = decode_invoice(bolt11)
        check_invoice(decoded, **expected)
    except (InvalidInvoiceError, InvoiceMismatchError) as exc:
        raise ProviderError(PROVIDER, f"BOLT11 refused: {exc}", retryable=False) from exc
    return decoded
