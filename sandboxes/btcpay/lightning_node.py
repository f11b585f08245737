"""A sandbox Lightning node: mints real, signed BOLT11 invoices and keeps their preimages.

Shared by the BTCPay and NWC sandboxes; "paying" an invoice reveals the preimage whose sha256 is
the payment hash, exactly what a real node's settlement proves.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

import bolt11
from bolt11.models.features import Feature, Features, FeatureState
from bolt11.models.tags import TagChar, Tags
from coincurve import PrivateKey

# Regtest invoices: "lnbcrt…". Real wallets will not pay them by accident.
SANDBOX_CURRENCY = "bcrt"


@dataclass(frozen=True)
class MintedInvoice:
    bolt11: str
    payment_hash: str
    preimage: str
    amount_msat: int
    created_at: int
    expiry_s: int

    @property
    def expires_at(self) -> int:
        return self.created_at + self.expiry_s


class SandboxNode:
    def __init__(self, private_key_hex: str | None = None) -> None:
        self._key = PrivateKey(bytes.fromhex(private_key_hex)) if private_key_hex else PrivateKey()
        self.pubkey = self._key.public_key.format().hex()
        self.minted: dict[str, MintedInvoice] = {}  # by payment hash: the node's own invoice list

    def mint(
        self,
        amount_msat: int,
        expiry_s: int,
        *,
        description: str | None = None,
        description_hash: str | None = None,
        created_at: int | None = None,
    ) -> MintedInvoice:
        """A signed invoice for ``amount_msat`` with a fresh preimage and payment secret."""
        preimage = secrets.token_bytes(32)
        payment_hash = hashlib.sha256(preimage).hexdigest()
        tags = Tags()
        tags.add(TagChar.payment_hash, payment_hash)
        tags.add(TagChar.payment_secret, secrets.token_hex(32))
        if description_hash is not None:
            tags.add(TagChar.description_hash, description_hash)
        else:
            tags.add(TagChar.description, description or "")
        tags.add(TagChar.expire_time, expiry_s)
        tags.add(TagChar.min_final_cltv_expiry, 18)
        tags.add(
            TagChar.features,
            Features.from_feature_list(
                {
                    Feature.var_onion_optin: FeatureState.required,
                    Feature.payment_secret: FeatureState.required,
                }
            ),
        )
        timestamp = created_at if created_at is not None else int(time.time())
        invoice = bolt11.Bolt11(
            currency=SANDBOX_CURRENCY,
            date=timestamp,
            tags=tags,
            amount_msat=bolt11.MilliSatoshi(amount_msat),
        )
        encoded = bolt11.encode(invoice, self._key.secret.hex())
        minted = MintedInvoice(encoded, payment_hash, preimage.hex(), amount_msat, timestamp, expiry_s)
        self.minted[payment_hash] = minted
        return minted
