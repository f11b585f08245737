"""BOLT #11 invoices through the ``bolt11`` library, plus the reader rules it leaves to us.

``bolt11.decode`` lower-cases its input and truncates sub-millisatoshi amounts, and it does not
fail on unknown even feature bits; BOLT #11 says a reader must reject all three.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import bolt11
from bolt11.models.features import FeatureExtra, FeatureState

# ln + currency prefix + optional amount and multiplier; bech32's separator is the last "1".
_HRP = re.compile(r"^ln(?P<currency>bcrt|bc|tbs|tb|sb)(?P<amount>\d+)?(?P<multiplier>[munp])?$")


class InvalidInvoiceError(ValueError):
    """The string is not a valid BOLT #11 invoice; the message says which rule it breaks."""


class InvoiceMismatchError(ValueError):
    """A valid invoice, but not the one we asked for (amount, payment hash, expiry or description)."""


@dataclass(frozen=True)
class DecodedInvoice:
    bolt11: str
    currency: str
    amount_msat: int | None
    payment_hash: str
    payment_secret: str | None
    description: str | None
    description_hash: str | None
    created_at: datetime
    expiry_s: int
    min_final_cltv_expiry: int
    payee: str | None

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.created_at.timestamp() + self.expiry_s, tz=UTC)


# Decoding costs ~5 ms of CPU (the library packs every 5-bit group through ``bitstring``), and one
# invoice is decoded at checkout, at every re-read of it and for its receipt: once per process now.
@lru_cache(maxsize=4096)
def decode_invoice(invoice: str, *, require_payment_secret: bool = True) -> DecodedInvoice:
    """Decode and validate; legacy invoices without ``s`` only when ``require_payment_secret`` is off."""
    text = invoice.strip().removeprefix("lightning:").removeprefix("LIGHTNING:")
    if text != text.lower() and text != text.upper():
        raise InvalidInvoiceError("mixed-case bech32 string")
    lowered = text.lower()
    separator = lowered.rfind("1")
    if separator < 1:
        raise InvalidInvoiceError("malformed bech32 string: no '1' separator")
    _check_hrp(lowered[:separator])
    try:
        decoded = bolt11.decode(lowered, ignore_exceptions=not require_payment_secret)
    except bolt11.Bolt11Exception as exc:
        raise InvalidInvoiceError(f"{type(exc).__name__}: {exc}") from exc
    except ValueError as exc:  # signature recovery failures surface as plain ValueError
        raise InvalidInvoiceError(f"invalid signature: {exc}") from exc
    _check_features(decoded)
    return DecodedInvoice(
        bolt11=lowered,
        currency=decoded.currency,
        amount_msat=int(decoded.amount_msat) if decoded.amount_msat is not None else None,
        payment_hash=decoded.payment_hash,
        payment_secret=decoded.payment_secret,
        description=decoded.description,
        description_hash=decoded.description_hash,
        created_at=datetime.fromtimestamp(decoded.date, tz=UTC),
        expiry_s=int(decoded.expiry),
        min_final_cltv_expiry=int(decoded.min_final_cltv_expiry),
        payee=decoded.payee,
    )


def _check_hrp(hrp: str) -> None:
    match = _HRP.match(hrp)
    if match is None:
        raise InvalidInvoiceError(f"invalid human-readable part {hrp!r} (currency or amount multiplier)")
    amount, multiplier = match["amount"], match["multiplier"]
    if amount is not None and amount.startswith("0"):
        raise InvalidInvoiceError("amount has leading zeros")
    if multiplier == "p" and amount is not None and not amount.endswith("0"):
        raise InvalidInvoiceError("sub-millisatoshi precision: a 'p' amount must end in 0")


def _check_features(decoded: bolt11.Bolt11) -> None:
    features = decoded.features
    if features is None:
        return
    for feature, state in features.feature_list.items():
        if isinstance(feature, FeatureExtra) and state is FeatureState.required:
            raise InvalidInvoiceError(f"unknown required (even) feature bit {2 * feature.value}")


def check_invoice(
    invoice: DecodedInvoice,
    *,
    amount_msat: int,
    payment_hash: str | None = None,
    expires_at: datetime | None = None,
    description_hash: str | None = None,
    now: datetime | None = None,
    expiry_tolerance_s: int = 5,
) -> None:
    """Raise ``InvoiceMismatchError`` unless the invoice is exactly what we asked the provider for."""
    if invoice.amount_msat != amount_msat:
        raise InvoiceMismatchError(f"amount {invoice.amount_msat} msat, asked for {amount_msat} msat")
    if payment_hash is not None and not hmac.compare_digest(invoice.payment_hash, payment_hash.lower()):
        raise InvoiceMismatchError("payment hash differs from the one the provider reported")
    if description_hash is not None and invoice.description_hash != description_hash:
        raise InvoiceMismatchError("description hash differs from sha256 of the metadata")
    if expires_at is not None and abs((invoice.expires_at - expires_at).total_seconds()) > expiry_tolerance_s:
        raise InvoiceMismatchError(
            f"expires at {invoice.expires_at.isoformat()}, asked {expires_at.isoformat()}"
        )
    if invoice.expires_at <= (now or datetime.now(UTC)):
        raise InvoiceMismatchError("invoice already expired")


def preimage_matches(preimage_hex: str | None, payment_hash_hex: str) -> bool:
    """Proof of payment: sha256(preimage) == payment_hash, compared as raw bytes in constant time."""
    if not preimage_hex:
        return False
    try:
        preimage = bytes.fromhex(preimage_hex)
        payment_hash = bytes.fromhex(payment_hash_hex)
    except ValueError:
        return False
    return len(preimage) == 32 and hmac.compare_digest(hashlib.sha256(preimage).digest(), payment_hash)
