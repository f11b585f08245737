"""Invoice lifecycle of the sandbox store: create, pay (fully, partially, late), expire, mark."""

import asyncio
import hashlib
import json
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from bech32 import encode as segwit_encode
from lnurl import url_encode

from sandboxes.btcpay import payment_methods
from sandboxes.btcpay.lightning_node import MintedInvoice
from sandboxes.btcpay.money import btc_str, msat_to_btc
from sandboxes.btcpay.state import Invoice, Payment, SandboxError, Store, new_id, now
from sandboxes.btcpay.webhook_delivery import WebhookSender

DEFAULT_EXPIRATION_MINUTES = 15
DEFAULT_MONITORING_MINUTES = 1440


class BtcpaySandbox:
    def __init__(self, store: Store, sender: WebhookSender, base_url: str) -> None:
        self.store = store
        self.sender = sender
        self.base_url = base_url.rstrip("/")

    # --- invoices -------------------------------------------------------------------------
    def create_invoice(self, request: dict[str, Any]) -> Invoice:
        currency = str(request.get("currency") or "BTC").upper()
        try:
            amount = Decimal(str(request["amount"]))
        except (KeyError, InvalidOperation) as exc:
            raise SandboxError(
                400, "validation", "amount must be a decimal string (top-up not supported)"
            ) from exc
        if amount <= 0:
            raise SandboxError(400, "validation", "amount must be positive")
        checkout = dict(request.get("checkout") or {})
        try:
            methods = [
                payment_methods.normalize_payment_method_id(m)
                for m in (checkout.get("paymentMethods") or payment_methods.ALL)
            ]
        except ValueError as exc:
            raise SandboxError(400, "validation", str(exc)) from exc
        amount_msat, rate = self.store.to_msat(amount, currency)
        created = now()
        expiration_minutes = Decimal(str(checkout.get("expirationMinutes") or DEFAULT_EXPIRATION_MINUTES))
        expiry_s = max(1, int(expiration_minutes * 60))
        metadata = dict(request.get("metadata") or {})
        invoice = Invoice(
            id=new_id(),
            store_id=self.store.id,
            amount=amount,
            currency=currency,
            amount_msat=amount_msat,
            rate=rate,
            metadata=metadata,
            checkout={**checkout, "paymentMethods": methods, "expirationMinutes": float(expiration_minutes)},
            methods=methods,
            created=created,
            expiration=created + expiry_s,
            monitoring_minutes=int(checkout.get("monitoringMinutes") or DEFAULT_MONITORING_MINUTES),
            lightning=None,
        )
        if payment_methods.LIGHTNING in methods:
            invoice.lightning = self._mint_for(invoice, invoice.amount_msat)
        if payment_methods.ONCHAIN in methods:
            invoice.chain_address = segwit_encode("bcrt", 0, secrets.token_bytes(20))
        self.store.invoices[invoice.id] = invoice
        self._publish(invoice, "InvoiceCreated")
        return invoice

    def lightning_description(self, invoice: Invoice) -> str:
        """BTCPay's default Lightning description template."""
        order = invoice.metadata.get("orderId") or invoice.id
        return f"Paid to {self.store.name} (Order ID: {order})"

    def _mint_for(
        self, invoice: Invoice, amount_msat: int, description_hash: str | None = None
    ) -> MintedInvoice:
        remaining_s = max(1, invoice.expiration - now())
        if description_hash is not None:
            return self.store.node.mint(amount_msat, remaining_s, description_hash=description_hash)
        return self.store.node.mint(amount_msat, remaining_s, description=self.lightning_description(invoice))

    def payment_methods_json(self, invoice: Invoice) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for method in invoice.methods:
            paid_here = sum(p.amount_msat for p in invoice.payments if p.payment_method_id == method)
            rows.append(
                {
                    "paymentMethodId": method,
                    "currency": "BTC",
                    "destination": self._destination(invoice, method),
                    "paymentLink": self._payment_link(invoice, method),
                    "rate": str(invoice.rate),
                    "paymentMethodPaid": _btc(paid_here),
                    "totalPaid": _btc(invoice.paid_msat),
                    "due": _btc(invoice.due_msat),
                    "amount": _btc(invoice.amount_msat),
                    "paymentMethodFee": "0.00000000",
                    "payments": [p.as_json() for p in invoice.payments if p.payment_method_id == method],
                    "activated": True,
                    "additionalData": {},
                }
            )
        return rows

    def _destination(self, invoice: Invoice, method: str) -> str:
        if method == payment_methods.LIGHTNING:
            return invoice.lightning.bolt11 if invoice.lightning else ""
        if method == payment_methods.LNURL:
            return str(url_encode(self.lnurl_pay_url(invoice)))
        return invoice.chain_address or ""

    def _payment_link(self, invoice: Invoice, method: str) -> str:
        destination = self._destination(invoice, method)
        if method == payment_methods.ONCHAIN:
            return f"bitcoin:{destination}?amount={_btc(invoice.due_msat)}"
        return f"lightning:{destination}"

    # --- LNURL-pay, BTCPay's own (LUD-06) -----------------------------------------------------
    def lnurl_pay_url(self, invoice: Invoice) -> str:
        return f"{self.base_url}/BTC/UILNURL/pay/i/{invoice.id}"

    def lnurl_metadata(self, invoice: Invoice) -> str:
        return json.dumps([["text/plain", self.lightning_description(invoice)]])

    def lnurl_invoice(self, invoice: Invoice, amount_msat: int) -> MintedInvoice:
        """A BOLT11 for the invoice's due amount whose ``h`` is sha256 of the LNURL metadata."""
        if invoice.status != "New" or now() >= invoice.expiration:
            raise SandboxError(400, "invoice-not-payable", "invoice is not awaiting payment")
        if amount_msat != invoice.due_msat:
            raise SandboxError(400, "amount-mismatch", f"amount must be {invoice.due_msat} msat")
        metadata_hash = hashlib.sha256(self.lnurl_metadata(invoice).encode()).hexdigest()
        minted = self._mint_for(invoice, amount_msat, description_hash=metadata_hash)
        invoice.lnurl_invoices.append(minted)
        return minted

    # --- payments (control API) ---------------------------------------------------------------
    def pay(self, invoice: Invoice, *, payment_hash: str | None, amount_msat: int | None) -> Payment:
        """Pay one of the invoice's BOLT11s (default: the BTC-LN one); reveals its preimage."""
        if invoice.status in ("Settled", "Invalid"):
            raise SandboxError(409, "invoice-closed", f"invoice is {invoice.status}")
        method, minted = invoice.find_lightning(payment_hash)
        if any(p.destination == minted.bolt11 for p in invoice.payments):
            raise SandboxError(409, "already-paid", "this BOLT11 was already paid")
        self.expire_if_due(invoice)
        late = invoice.status == "Expired"
        payment = Payment(
            id=f"{minted.payment_hash}",
            payment_method_id=method,
            received=now(),
            amount_msat=amount_msat if amount_msat is not None else minted.amount_msat,
            destination=minted.bolt11,
            preimage=minted.preimage,
        )
        invoice.payments.append(payment)
        received = {"afterExpiration": late, "paymentMethodId": method, "payment": payment.as_json()}
        self._publish(invoice, "InvoiceReceivedPayment", received)
        self._publish(invoice, "InvoicePaymentSettled", received)
        if late:
            invoice.additional_status = "PaidLate" if invoice.due_msat <= 0 else "PaidPartial"
        elif invoice.due_msat <= 0:
            invoice.status = "Settled"
            invoice.additional_status = "PaidOver" if invoice.due_msat < 0 else "None"
            self._publish(
                invoice, "InvoiceSettled", {"manuallyMarked": False, "overPaid": invoice.due_msat < 0}
            )
        else:
            invoice.additional_status = "PaidPartial"
            # BTCPay issues a fresh Lightning invoice for what is still due.
            if invoice.lightning is not None:
                invoice.lightning = self._mint_for(invoice, invoice.due_msat)
        return payment

    def expire(self, invoice: Invoice) -> None:
        if invoice.status != "New":
            raise SandboxError(409, "invoice-not-new", f"invoice is {invoice.status}")
        invoice.expiration = min(invoice.expiration, now())
        self._mark_expired(invoice)

    def expire_if_due(self, invoice: Invoice) -> None:
        if invoice.status == "New" and now() >= invoice.expiration:
            self._mark_expired(invoice)

    def _mark_expired(self, invoice: Invoice) -> None:
        invoice.status = "Expired"
        partially_paid = invoice.paid_msat > 0
        invoice.additional_status = "PaidPartial" if partially_paid else "None"
        self._publish(invoice, "InvoiceExpired", {"partiallyPaid": partially_paid})

    def mark(self, invoice: Invoice, status: str) -> None:
        """Greenfield ``POST …/invoices/{id}/status``: the merchant marks Settled or Invalid."""
        if status not in invoice.markable_statuses():
            raise SandboxError(400, "invalid-state", f"cannot mark a {invoice.status} invoice as {status}")
        invoice.status, invoice.additional_status = status, "Marked"
        event = "InvoiceSettled" if status == "Settled" else "InvoiceInvalid"
        extra: dict[str, Any] = {"manuallyMarked": True}
        if status == "Settled":
            extra["overPaid"] = invoice.due_msat < 0
        self._publish(invoice, event, extra)

    def _publish(self, invoice: Invoice, event_type: str, extra: dict[str, Any] | None = None) -> None:
        fields = {"storeId": invoice.store_id, "invoiceId": invoice.id, "metadata": invoice.metadata}
        self.sender.publish(invoice.store_id, event_type, fields | (extra or {}))

    async def expire_invoices_forever(self, interval_s: float = 0.5) -> None:
        """Like BTCPay's invoice watcher: New invoices past their expiration become Expired."""
        while True:
            for invoice in list(self.store.invoices.values()):
                self.expire_if_due(invoice)
            await asyncio.sleep(interval_s)


def _btc(msat: int) -> str:
    sign = "-" if msat < 0 else ""
    return sign + btc_str(msat_to_btc(abs(msat)))
