"""The sandbox's store: invoices, payments, pull payments, payouts, offerings, rates; in memory.

Status rules follow BTCPay: a Lightning payment that covers the invoice settles it at once; a
smaller one leaves it ``New`` with ``PaidPartial``; a payment after expiry leaves it ``Expired``
with ``PaidLate`` (or ``PaidPartial``) until the merchant marks it.
"""

import secrets
import string
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandboxes.btcpay import payment_methods
from sandboxes.btcpay.lightning_node import MintedInvoice, SandboxNode
from sandboxes.btcpay.money import btc_str, btc_to_msat, msat_to_btc

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(length: int = 22, prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class SandboxError(Exception):
    """A request BTCPay would refuse; ``status`` and ``code`` become the ProblemDetails answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class Payment:
    id: str
    payment_method_id: str
    received: int
    amount_msat: int
    destination: str
    preimage: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "receivedDate": self.received,
            "value": btc_str(msat_to_btc(self.amount_msat)),
            "fee": "0.00000000",
            "status": "Settled",
            "destination": self.destination,
        }


@dataclass
class Invoice:
    id: str
    store_id: str
    amount: Decimal
    currency: str
    amount_msat: int
    rate: Decimal
    metadata: dict[str, Any]
    checkout: dict[str, Any]
    methods: list[str]
    created: int
    expiration: int
    monitoring_minutes: int
    lightning: MintedInvoice | None
    lnurl_invoices: list[MintedInvoice] = field(default_factory=list)
    chain_address: str | None = None
    status: str = "New"
    additional_status: str = "None"
    payments: list[Payment] = field(default_factory=list)
    archived: bool = False

    @property
    def paid_msat(self) -> int:
        return sum(p.amount_msat for p in self.payments)

    @property
    def due_msat(self) -> int:
        return self.amount_msat - self.paid_msat

    def find_lightning(self, payment_hash: str | None) -> tuple[str, MintedInvoice]:
        prompts = [(payment_methods.LIGHTNING, self.lightning)] if self.lightning else []
        prompts += [(payment_methods.LNURL, minted) for minted in self.lnurl_invoices]
        for method, minted in prompts:
            if payment_hash is None or minted.payment_hash == payment_hash:
                return method, minted
        raise SandboxError(404, "payment-not-found", "no Lightning invoice with that payment hash")

    def as_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "storeId": self.store_id,
            "amount": str(self.amount),
            "paidAmount": str(self.paid_fraction_of_amount()),
            "currency": self.currency,
            "type": "Standard",
            "checkoutLink": f"{base_url}/i/{self.id}",
            "createdTime": self.created,
            "expirationTime": self.expiration,
            "monitoringExpiration": self.expiration + self.monitoring_minutes * 60,
            "status": self.status,
            "additionalStatus": self.additional_status,
            "availableStatusesForManualMarking": self.markable_statuses(),
            "archived": self.archived,
            "metadata": self.metadata,
            "checkout": self.checkout,
            "receipt": {"enabled": True, "showQR": None, "showPayments": None},
        }

    def paid_fraction_of_amount(self) -> Decimal:
        if self.amount_msat == 0:
            return Decimal(0)
        return (self.amount * self.paid_msat / self.amount_msat).quantize(Decimal("0.00000001"))

    def markable_statuses(self) -> list[str]:
        if self.status in ("Settled", "Invalid"):
            return []
        return ["Settled", "Invalid"]


@dataclass
class PullPayment:
    id: str
    store_id: str
    invoice_id: str | None
    name: str
    description: str
    amount_msat: int
    created: int
    archived: bool = False

    def as_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "currency": "BTC",
            "amount": btc_str(msat_to_btc(self.amount_msat)),
            "BOLT11Expiration": "30",
            "autoApproveClaims": False,
            "archived": self.archived,
            "viewLink": f"{base_url}/pull-payments/{self.id}",
        }


@dataclass
class Payout:
    id: str
    pull_payment_id: str
    store_id: str
    destination: str
    amount_msat: int
    payout_method_id: str
    created: int
    state: str = "AwaitingApproval"
    revision: int = 0

    def as_json(self) -> dict[str, Any]:
        amount = btc_str(msat_to_btc(self.amount_msat))
        return {
            "id": self.id,
            "revision": self.revision,
            "pullPaymentId": self.pull_payment_id,
            "date": str(self.created),
            "destination": self.destination,
            "originalCurrency": "BTC",
            "originalAmount": amount,
            "payoutCurrency": "BTC",
            "payoutAmount": amount if self.state != "AwaitingApproval" else None,
            "payoutMethodId": self.payout_method_id,
            "state": self.state,
            "paymentProof": None,
            "metadata": {"source": "sandbox"},
        }


@dataclass
class Store:
    id: str
    name: str
    api_key: str
    node: SandboxNode
    rates: dict[str, Decimal]
    invoices: dict[str, Invoice] = field(default_factory=dict)
    pull_payments: dict[str, PullPayment] = field(default_factory=dict)
    payouts: dict[str, Payout] = field(default_factory=dict)
    offerings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The API key's btcpay.store.canviewlightninginvoice permission (the control API can drop it).
    can_view_lightning_invoices: bool = True

    def invoice(self, invoice_id: str) -> Invoice:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise SandboxError(404, "invoice-not-found", "The invoice could not be found")
        return invoice

    def to_msat(self, amount: Decimal, currency: str) -> tuple[int, Decimal]:
        """Invoice amount in msat (whole satoshis) and the rate used (fiat per BTC, 1 for BTC)."""
        code = currency.upper()
        if code == "BTC":
            return btc_to_msat(amount), Decimal(1)
        if code == "SATS":
            return btc_to_msat(amount / Decimal(100_000_000)), Decimal(1)
        rate = self.rates.get(f"BTC_{code}")
        if rate is None:
            raise SandboxError(400, "rate-unavailable", f"no rate for BTC_{code}")
        return btc_to_msat(msat_to_btc(btc_to_msat(amount / rate))), rate


def now() -> int:
    return int(time.time())
