"""Receipts checked offline: real signed regtest invoices from the sandbox node, the verifier built on
the ``bolt11`` library, and what each back end's answer makes of a receipt's proof."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bolt11
import pytest
from coincurve import PrivateKey

from sandboxes.btcpay.lightning_node import MintedInvoice, SandboxNode
from shared.connectors.lightning.invoice_reading import (
    InvoiceStatus,
    Proof,
    read_btcpay,
    read_nwc,
    with_node_preimage,
)
from shared.connectors.lightning.nwc.client import NwcTransaction
from shared.connectors.lightning.receipt_proof import verify_receipt

NODE = SandboxNode()


def _receipt(minted: MintedInvoice, node: SandboxNode = NODE, **fields: Any) -> dict[str, Any]:
    return {
        "bolt11": minted.bolt11,
        "paymentHash": minted.payment_hash,
        "preimage": minted.preimage,
        "proof": "preimage",
        "amountMsat": minted.amount_msat,
        "nodePubkey": node.pubkey,
    } | fields


@pytest.fixture
def minted() -> MintedInvoice:
    return NODE.mint(2_500_000, 600, description="HomeTryOn pack")


def test_a_receipt_with_its_preimage_and_the_nodes_signature_is_proven(minted: MintedInvoice) -> None:
    assert minted.bolt11.startswith("lnbcrt")  # a real regtest BOLT11

    verdict = verify_receipt(_receipt(minted), node_key=NODE.pubkey)

    assert (verdict.ok, verdict.proven) == (True, True)


def test_a_wrong_preimage_fails(minted: MintedInvoice) -> None:
    verdict = verify_receipt(_receipt(minted, preimage="22" * 32))

    assert verdict.failures == ["sha256(preimage) is not the payment hash"]
    assert not verdict.proven


def test_an_invoice_signed_by_another_key_fails_against_the_named_node(minted: MintedInvoice) -> None:
    # Same fields, re-signed by someone else: bech32 checks out, the signature does not.
    forged = bolt11.encode(bolt11.decode(minted.bolt11), PrivateKey().secret.hex())

    verdict = verify_receipt(_receipt(minted, bolt11=forged))

    assert len(verdict.failures) == 1 and "signature" in verdict.failures[0]


def test_a_tampered_signature_fails(minted: MintedInvoice) -> None:
    decoded = bolt11.decode(minted.bolt11)
    assert decoded.signature is not None
    flipped = bytearray(decoded.signature.signature_data)
    flipped[10] ^= 0x01
    decoded.signature = type(decoded.signature)(
        hrp=decoded.signature.hrp, signing_data=decoded.signature.signing_data, signature_data=bytes(flipped)
    )
    tampered = bolt11.encode(decoded, ignore_exceptions=True, keep_payee=True)
    assert tampered != minted.bolt11

    verdict = verify_receipt(_receipt(minted, bolt11=tampered))

    assert len(verdict.failures) == 1 and "signature" in verdict.failures[0]


def test_a_receipt_naming_another_node_than_the_pinned_one_fails(minted: MintedInvoice) -> None:
    other = SandboxNode()

    verdict = verify_receipt(_receipt(minted), node_key=other.pubkey)

    assert not verdict.ok


def test_an_amount_the_invoice_does_not_carry_fails(minted: MintedInvoice) -> None:
    assert not verify_receipt(_receipt(minted, amountMsat=minted.amount_msat + 1000)).ok


def test_confirmed_by_provider_checks_the_invoice_but_proves_no_payment(minted: MintedInvoice) -> None:
    verdict = verify_receipt(_receipt(minted, preimage=None, proof="confirmed_by_provider"))

    assert (verdict.ok, verdict.proven) == (True, False)


def _nwc(minted: MintedInvoice, **fields: Any) -> NwcTransaction:
    settled = int((datetime.now(UTC)).timestamp())
    values: dict[str, Any] = {
        "payment_hash": minted.payment_hash,
        "amount": minted.amount_msat,
        "settled_at": settled,
        "state": "settled",
    }
    return NwcTransaction.model_validate(values | fields)


def _read_nwc(minted: MintedInvoice, transaction: NwcTransaction) -> Any:
    expires = datetime.now(UTC) + timedelta(minutes=10)
    return read_nwc(
        transaction, payment_hash=minted.payment_hash, amount_msat=minted.amount_msat, expires_at=expires
    )


def test_nwc_settlement_with_its_preimage_is_proven(minted: MintedInvoice) -> None:
    reading = _read_nwc(minted, _nwc(minted, preimage=minted.preimage.upper()))

    assert (reading.status, reading.proof, reading.preimage) == (
        InvoiceStatus.SETTLED,
        Proof.PREIMAGE,
        minted.preimage,
    )


def test_nwc_settlement_without_a_preimage_is_only_confirmed_by_the_provider(minted: MintedInvoice) -> None:
    reading = _read_nwc(minted, _nwc(minted, preimage=None))

    assert (reading.status, reading.proof, reading.preimage) == (
        InvoiceStatus.SETTLED,
        Proof.CONFIRMED_BY_PROVIDER,
        None,
    )


def test_nwc_settlement_with_a_wrong_preimage_settles_nothing(minted: MintedInvoice) -> None:
    reading = _read_nwc(minted, _nwc(minted, preimage="33" * 32))

    assert (reading.status, reading.proof) == (InvoiceStatus.INVALID, None)


def _settled_btcpay() -> Any:
    return read_btcpay({"status": "Settled", "additionalStatus": "None"}, [])


def test_btcpay_settlement_is_confirmed_by_provider_until_the_node_reveals_the_preimage(
    minted: MintedInvoice,
) -> None:
    assert _settled_btcpay().proof is Proof.CONFIRMED_BY_PROVIDER

    proven = with_node_preimage(_settled_btcpay(), minted.preimage.upper(), minted.payment_hash)

    assert (proven.proof, proven.preimage) == (Proof.PREIMAGE, minted.preimage)


def test_btcpay_node_preimage_that_does_not_hash_to_the_payment_hash_is_not_kept(
    minted: MintedInvoice,
) -> None:
    reading = with_node_preimage(_settled_btcpay(), "44" * 32, minted.payment_hash)

    assert (reading.status, reading.proof, reading.preimage) == (
        InvoiceStatus.SETTLED,
        Proof.CONFIRMED_BY_PROVIDER,
        None,
    )


def test_the_readme_recipe_verifies_a_receipt(minted: MintedInvoice, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    recipe = tmp_path / "recipe.py"
    recipe.write_text(
        readme.split("### Lightning receipts", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    )
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"receipts": [_receipt(minted)]}))
    bad.write_text(json.dumps({"receipts": [_receipt(minted, preimage="66" * 32)]}))

    def run(file: Path) -> int:
        return subprocess.run(
            [sys.executable, str(recipe), str(file)], capture_output=True, check=False
        ).returncode

    assert (run(good), run(bad)) == (0, 1)
