"""Checking a Lightning receipt without asking us: only the ``bolt11`` library and sha256.

A receipt proves payment when sha256(preimage) is the invoice's payment hash (only the payee's node
knew the preimage, and it gives it up only against payment) and the BOLT11 carrying that hash is
signed by the node key the receipt names (pin it with ``node_key`` to trust no one's word for it).
A receipt whose back end revealed no preimage says ``confirmed_by_provider``: checkable as an invoice,
not as a payment.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import bolt11


@dataclass(frozen=True)
class Verdict:
    failures: list[str] = field(default_factory=list)
    proven: bool = False  # a preimage matched: the payment itself is proven

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_receipt(receipt: dict[str, Any], *, node_key: str | None = None) -> Verdict:
    failures: list[str] = []
    node_pubkey = str(receipt.get("nodePubkey") or "").lower()
    if node_key is not None and not hmac.compare_digest(node_pubkey, node_key.lower()):
        failures.append(f"receipt names node {node_pubkey or '-'}, expected {node_key.lower()}")
    try:
        invoice = bolt11.decode(str(receipt.get("bolt11") or ""))
        if invoice.signature is None:
            raise ValueError("the invoice carries no signature")
        invoice.signature.verify(node_pubkey)  # raises unless this node signed these exact fields
    except Exception as exc:  # the library raises Bolt11Exception, ValueError or coincurve errors
        return Verdict([*failures, f"invoice signature does not verify against the node key: {exc}"])
    if invoice.payment_hash != str(receipt.get("paymentHash") or "").lower():
        failures.append("payment hash differs from the invoice's")
    if invoice.amount_msat is None or int(invoice.amount_msat) != receipt.get("amountMsat"):
        failures.append(f"amount differs from the invoice's ({invoice.amount_msat} msat)")
    if receipt.get("proof") == "preimage":
        if not _preimage_matches(receipt.get("preimage"), invoice.payment_hash):
            failures.append("sha256(preimage) is not the payment hash")
        return Verdict(failures, proven=not failures)
    if receipt.get("proof") != "confirmed_by_provider":
        failures.append(f"unknown proof {receipt.get('proof')!r}")
    return Verdict(failures)


def _preimage_matches(preimage: object, payment_hash: str) -> bool:
    try:
        secret = bytes.fromhex(str(preimage))
    except ValueError:
        return False
    return hmac.compare_digest(hashlib.sha256(secret).hexdigest(), payment_hash)
