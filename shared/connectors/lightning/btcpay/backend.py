"""BTCPay Server back end: Greenfield invoices (BTC-LN + BTC-LNURL), re-reads, refunds as pull payments."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import structlog

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
from shared.connectors.lightning.invoice_reading import (
    InvoiceStatus,
    ProviderReading,
    read_btcpay,
    with_node_preimage,
)
from shared.connectors.lightning.lnurl_pay import description_hash
from shared.connectors.lightning.pricing.conversion import MSAT_PER_BTC, round_up_to_sat
from shared.connectors.lightning.tables import LightningInvoice
from shared.domain.errors import ProviderError
from shared.settings import Settings

log = structlog.get_logger(__name__)
LIGHTNING_METHODS = ("BTC-LN", "BTC-LNURL")
# The node API answers these when it cannot help (no permission, no such invoice, node unreachable):
# the settlement stands on BTCPay's Settled and its receipt says so.
NO_NODE_ANSWER = frozenset({401, 403, 404, 503})


class BtcpayBackend:
    name = "btcpay"

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self._client = BtcpayClient(
            http,
            settings.btcpay.base_url,
            settings.btcpay.store_id,
            settings.btcpay.api_key.get_secret_value(),
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
        reading = read_btcpay(found, methods)
        if reading.status is not InvoiceStatus.SETTLED:
            return reading
        return await self._with_preimage(reading, _paid_bolt11(methods) or invoice.bolt11)

    async def _with_preimage(self, reading: ProviderReading, bolt11: str) -> ProviderReading:
        """Greenfield's invoice and its payment methods carry no preimage (``Payment`` is closed,
        ``swagger.template.invoices.json``); the store's Lightning node API does
        (``LightningInvoiceData.preimage``, BTCPay 2.x). The node's invoice id is the payment hash
        for LND and BTCPay's own nodes; a node that names its invoices otherwise answers 404."""
        try:
            payment_hash = decode_invoice(bolt11).payment_hash
        except InvalidInvoiceError:
            log.warning("btcpay_paid_bolt11_unreadable")
            return reading
        reading = replace(reading, paid_bolt11=bolt11)
        try:
            node_invoice = await self._client.get_lightning_invoice(payment_hash)
        except ProviderError as exc:
            if exc.status not in NO_NODE_ANSWER:
                raise
            log.info("btcpay_node_invoice_unavailable", payment_hash=payment_hash, status=exc.status)
            return reading
        preimage = node_invoice.get("preimage")
        return with_node_preimage(reading, preimage if isinstance(preimage, str) else None, payment_hash)

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


def _paid_bolt11(methods: list[dict[str, Any]]) -> str | None:
    """The BOLT11 of the last Lightning payment (``Payment.destination``), BTC-LN or LNURL-pay."""
    paid = [
        (int(p.get("receivedDate") or 0), str(p["destination"]))
        for m in methods
        if _method_id(m) in LIGHTNING_METHODS
        for p in m.get("payments") or []
        if p.get("destination")
    ]
    return max(paid)[1] if paid else None


def _method_id(method: dict[str, Any]) -> str | None:
    return normalize_payment_method_id(method.get("paymentMethodId") or method.get("paymentMethod"))


def _destination(methods: list[dict[str, Any]], wanted: str) -> str:
    """The destination of a payment method; 1.x ``paymentMethod`` names are accepted too."""
    for method in methods:
        if _method_id(method) == wanted and method.get("destination"):
            return str(method["destination"])
    raise ProviderError(PROVIDER, f"invoice has no {wanted} destination (not activated?)", retryable=True)


def _checked(bolt11: str, **expected: Any) -> DecodedInvoice:
    try:
        decoded = decode_invoice(bolt11)
        check_invoice(decoded, **expected)
    except (InvalidInvoiceError, InvoiceMismatchError) as exc:
        raise ProviderError(PROVIDER, f"BOLT11 refused: {exc}", retryable=False) from exc
    return decoded
