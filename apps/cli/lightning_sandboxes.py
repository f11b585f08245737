"""How ``billing up`` runs the Lightning sandboxes: BTCPay (checkout back end and rate source) and the
NWC wallet, unless ``BILLING_BTCPAY_BASE_URL`` points at a real BTCPay Server. Their API key, webhook
secret and NWC connection secret are generated into ``.local/``. The local stack is the one place of the
product that knows the sandboxes' own conventions (the NWC sandbox derives its wallet key from the URI).
"""

import base64
import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from sandboxes.nwc.keys import connection_uri
from shared.connectors.lightning.cli import BTCPAY_PORT, LOCAL_STORE_ID, NWC_PORT, NWC_RELAY_PORT
from shared.settings import Settings

LOCAL_SECRETS_FILE = Path(__file__).resolve().parents[2] / ".local" / "lightning-sandboxes.json"


def _local_secrets() -> dict[str, str]:
    """Per-machine sandbox secrets, generated once (a missing one is added) and kept out of the repo."""
    stored: dict[str, str] = json.loads(LOCAL_SECRETS_FILE.read_text()) if LOCAL_SECRETS_FILE.exists() else {}
    wanted: dict[str, Callable[[], str]] = {
        "btcpay_api_key": lambda: secrets.token_urlsafe(24),
        "btcpay_webhook_secret": lambda: secrets.token_urlsafe(24),
        "nwc_client_secret": lambda: secrets.token_hex(32),
        # A Standard Webhooks endpoint secret, as Alby returns it: whsec_ + base64 of random bytes.
        "alby_webhook_secret": lambda: "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    }
    missing = {name: make() for name, make in wanted.items() if name not in stored}
    if missing:
        LOCAL_SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
        LOCAL_SECRETS_FILE.touch(mode=0o600, exist_ok=True)
        LOCAL_SECRETS_FILE.write_text(json.dumps(stored | missing))
        LOCAL_SECRETS_FILE.chmod(0o600)
    return stored | missing


def sandbox_environment(env: dict[str, str]) -> dict[str, str]:
    """Point the stack at the local sandboxes unless a BTCPay Server was configured explicitly."""
    if "BILLING_BTCPAY_BASE_URL" in env:
        return env
    local = _local_secrets()
    return env | {
        "BILLING_LIGHTNING_BACKEND": env.get("BILLING_LIGHTNING_BACKEND", "btcpay"),
        "BILLING_BTCPAY_BASE_URL": f"http://127.0.0.1:{BTCPAY_PORT}",
        "BILLING_BTCPAY_STORE_ID": LOCAL_STORE_ID,
        "BILLING_BTCPAY_API_KEY": local["btcpay_api_key"],
        "BILLING_BTCPAY_WEBHOOK_SECRET": local["btcpay_webhook_secret"],
        "BILLING_NWC_URI": env.get("BILLING_NWC_URI")
        or connection_uri(local["nwc_client_secret"], NWC_RELAY_PORT),
        "BILLING_ALBY_WEBHOOK_SECRET": env.get("BILLING_ALBY_WEBHOOK_SECRET") or local["alby_webhook_secret"],
    }


def sandbox_commands(env: dict[str, str], settings: Settings) -> dict[str, list[str]]:
    """argv of each local sandbox ``billing up`` starts (secrets reach them through ``env``)."""
    if env.get("BILLING_BTCPAY_BASE_URL") != f"http://127.0.0.1:{BTCPAY_PORT}":
        return {}
    webhook_url = f"http://127.0.0.1:{settings.gateway_port}/v1/webhooks/lightning"
    btcpay = ["-m", "sandboxes.btcpay", "--port", str(BTCPAY_PORT), "--webhook-url", webhook_url]
    nwc = ["-m", "sandboxes.nwc", "--port", str(NWC_PORT), "--webhook-url", webhook_url]  # Alby's hosted ones
    return {"btcpay-sandbox": [sys.executable, *btcpay], "nwc-sandbox": [sys.executable, *nwc]}
