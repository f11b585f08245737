"""Refunds as BTCPay does them: a refund creates a pull payment; payouts against it carry the money."""

from decimal import Decimal, InvalidOperation
from typing import Any

from sandboxes.btcpay.money import btc_to_msat
from sandboxes.btcpay.sandbox import BtcpaySandbox
from sandboxes.btcpay.state import Invoice, Payout, PullPayment, SandboxError, new_id, now

PAYOUT_STATES = ("AwaitingApproval", "AwaitingPayment", "InProgress", "Completed", "Cancelled")


def refund_invoice(sandbox: BtcpaySandbox, invoice: Invoice, request: dict[str, Any]) -> PullPayment:
    """``POST …/invoices/{id}/refund``; 2.x ``payoutMethodId`` or 1.x ``paymentMethod`` both accepted."""
    if invoice.paid_msat <= 0:
        raise SandboxError(400, "non-refundable", "Cannot refund an invoice that has not been paid")
    variant = request.get("refundVariant") or "RateThen"
    if variant not in ("RateThen", "CurrentRate", "OverpaidAmount", "Fiat", "Custom"):
        raise SandboxError(400, "validation", f"unknown refundVariant {variant!r}")
    amount_msat = invoice.paid_msat
    if variant == "OverpaidAmount":
        amount_msat = max(0, -invoice.due_msat)
    elif variant == "Custom":
        amount_msat = _custom_amount_msat(sandbox, request)
    subtract = Decimal(str(request.get("subtractPercentage") or "0"))
    amount_msat = int(amount_msat * (Decimal(100) - subtract) / Decimal(100))
    pull_payment = PullPayment(
        id=new_id(),
        store_id=invoice.store_id,
        invoice_id=invoice.id,
        name=request.get("name") or f"Refund {invoice.id}",
        description=request.get("description") or "",
        amount_msat=amount_msat,
        created=now(),
    )
    sandbox.store.pull_payments[pull_payment.id] = pull_payment
    return pull_payment


def _custom_amount_msat(sandbox: BtcpaySandbox, request: dict[str, Any]) -> int:
    try:
        amount = Decimal(str(request["customAmount"]))
    except (KeyError, InvalidOperation) as exc:
        raise SandboxError(400, "validation", "customAmount is required for a Custom refund") from exc
    msat, _ = sandbox.store.to_msat(amount, str(request.get("customCurrency") or "BTC"))
    return msat


def create_payout(sandbox: BtcpaySandbox, pull_payment: PullPayment, request: dict[str, Any]) -> Payout:
    """``POST /api/v1/pull-payments/{id}/payouts``: the customer claims the refund to a destination."""
    if any(
        p.pull_payment_id == pull_payment.id and p.state != "Cancelled"
        for p in sandbox.store.payouts.values()
    ):
        raise SandboxError(400, "duplicate-payout", "this pull payment is already claimed")
    amount_msat = pull_payment.amount_msat
    if request.get("amount") is not None:
        amount_msat = btc_to_msat(Decimal(str(request["amount"])))
    payout = Payout(
        id=new_id(),
        pull_payment_id=pull_payment.id,
        store_id=pull_payment.store_id,
        destination=str(request.get("destination") or "sandbox-destination"),
        amount_msat=amount_msat,
        payout_method_id=str(request.get("payoutMethodId") or request.get("paymentMethod") or "BTC-LN"),
        created=now(),
    )
    sandbox.store.payouts[payout.id] = payout
    _publish(sandbox, payout, "PayoutCreated")
    return payout


def set_payout_state(sandbox: BtcpaySandbox, payout: Payout, state: str) -> None:
    if state not in PAYOUT_STATES:
        raise SandboxError(400, "validation", f"unknown payout state {state!r}")
    if payout.state in ("Completed", "Cancelled"):
        raise SandboxError(400, "payout-closed", f"payout is {payout.state}")
    approving = payout.state == "AwaitingApproval" and state != "Cancelled"
    payout.state = state
    payout.revision += 1
    _publish(
        sandbox, payout, "PayoutApproved" if approving and state == "AwaitingPayment" else "PayoutUpdated"
    )


def complete_payout(sandbox: BtcpaySandbox, payout: Payout) -> None:
    """Approve (if needed) and pay: the path a payout processor takes."""
    if payout.state == "AwaitingApproval":
        set_payout_state(sandbox, payout, "AwaitingPayment")
    set_payout_state(sandbox, payout, "Completed")


def _publish(sandbox: BtcpaySandbox, payout: Payout, event_type: str) -> None:
    fields = {
        "storeId": payout.store_id,
        "payoutId": payout.id,
        "pullPaymentId": payout.pull_payment_id,
        "payoutState": payout.state,
    }
    sandbox.sender.publish(payout.store_id, event_type, fields)
