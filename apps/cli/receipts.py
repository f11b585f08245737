"""``billing receipt verify FILE``: check a Lightning receipt offline, without our server.

FILE is one receipt or the whole answer of ``GET /v1/receipts/{purchaseReference}`` (``-`` reads
stdin). Exit 0: every receipt's payment is proven by its preimage; 1: a check failed; 2: the checks
pass but a receipt is only ``confirmed_by_provider`` (its back end revealed no preimage).
"""

import json
import sys
from pathlib import Path
from typing import Any

import typer

from shared.connectors.lightning.receipt_proof import verify_receipt

receipt_app = typer.Typer(help="Lightning receipts: verify one offline", no_args_is_help=True)


@receipt_app.command("verify")
def verify(
    file: str = typer.Argument(..., help="receipt JSON file, or - for stdin"),
    node_key: str | None = typer.Option(None, help="the payee node's public key you expect (hex)"),
) -> None:
    """Check sha256(preimage) = payment hash and the BOLT11's signature against the node key."""
    text = sys.stdin.read() if file == "-" else Path(file).read_text()
    try:
        receipts = _receipts(json.loads(text))
    except (ValueError, TypeError) as exc:
        typer.echo(f"not a receipt: {exc}", err=True)
        raise typer.Exit(1) from exc
    worst = 0
    for receipt in receipts:
        verdict = verify_receipt(receipt, node_key=node_key)
        label = receipt.get("paymentHash", "?")
        if not verdict.ok:
            worst = 1
            for failure in verdict.failures:
                typer.echo(f"{label}: FAILED: {failure}")
        elif verdict.proven:
            typer.echo(f"{label}: OK: paid (preimage matches), signed by node {receipt['nodePubkey']}")
        else:
            worst = max(worst, 2)
            typer.echo(f"{label}: confirmed by provider only: no preimage, invoice signature OK")
    raise typer.Exit(worst)


def _receipts(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict) and isinstance(document.get("receipts"), list):
        items: list[Any] = document["receipts"]
    else:
        items = [document]
    if not items or not all(isinstance(item, dict) for item in items):
        raise ValueError('expected a receipt object or {"receipts": [...]}')
    return items
