"""Provider sandboxes a test session starts beside our services.

Each provider folder appends its sandbox here: how to start it on a given port and which settings
point our services at it. Settings are computed before any process starts, so the gateway, the
consumers and the sandboxes all know each other's addresses.
"""

import secrets
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sandboxes.nwc.keys import connection_uri
from shared.settings import Settings


@dataclass(frozen=True)
class SandboxProcess:
    name: str
    # argv (after the Python interpreter) to run it on ``port``, given the session's settings
    command: Callable[[Settings, int], list[str]]
    # settings overrides that point our services at a sandbox listening on ``port``
    settings_for_port: Callable[[int], dict[str, object]]


SANDBOXES: list[SandboxProcess] = []


# RevenueCat: the adapter's base URL points at the sandbox; the sandbox posts webhooks to the gateway with
# the session's Authorization value (read from the BILLING_* environment every child gets, never argv).
REVENUECAT_RETRY_UNIT_MS = 20  # RevenueCat's 5..80-minute retry schedule becomes 100..1600 ms


def _revenuecat_sandbox_command(settings: Settings, port: int) -> list[str]:
    return [
        "-m",
        "sandboxes.revenuecat",
        "--port",
        str(port),
        "--webhook-url",
        f"http://127.0.0.1:{settings.gateway_port}/v1/webhooks/revenuecat",
        "--project-id",
        settings.revenuecat.project_id,
        "--retry-unit-ms",
        str(REVENUECAT_RETRY_UNIT_MS),
    ]


def _revenuecat_sandbox_settings(port: int) -> dict[str, object]:
    return {
        "revenuecat_api_base_url": f"http://127.0.0.1:{port}",
        "revenuecat_api_key": f"sk_test_{uuid.uuid4().hex}",
        "revenuecat_project_id": "proj_test",
        "revenuecat_http_max_attempts": 2,
        "revenuecat_http_backoff_initial_s": 0.05,
        "revenuecat_http_backoff_max_s": 0.5,
        "revenuecat_web_purchase_base_url": f"http://127.0.0.1:{port}/pay",
        # The hosted paywall completes purchases in the sandbox, as in `make run`.
        "marketplace_revenuecat_sandbox_url": f"http://127.0.0.1:{port}",
    }


SANDBOXES.append(SandboxProcess("revenuecat", _revenuecat_sandbox_command, _revenuecat_sandbox_settings))


# Lightning: the BTCPay sandbox is the checkout back end (and the price oracle's rate source) and
# posts signed webhooks to the gateway; the NWC sandbox is an Alby Hub whose relay listens on the
# port named in the connection URI. Secrets reach the sandboxes through the BILLING_* environment.
def _btcpay_sandbox_command(settings: Settings, port: int) -> list[str]:
    webhook_url = f"http://127.0.0.1:{settings.gateway_port}/v1/webhooks/lightning"
    # BTCPay's redelivery schedule (10 s, 1 min, 6 x 10 min) becomes 10 ms, 60 ms, 6 x 600 ms.
    return [
        "-m",
        "sandboxes.btcpay",
        "--port",
        str(port),
        "--webhook-url",
        webhook_url,
        "--retry-scale",
        "0.001",
    ]


def _btcpay_sandbox_settings(port: int) -> dict[str, object]:
    return {
        "lightning_backend": "btcpay",
        "btcpay_base_url": f"http://127.0.0.1:{port}",
        "btcpay_store_id": "store-test",
        "btcpay_api_key": f"btcpay-{uuid.uuid4().hex}",
        "btcpay_webhook_secret": f"whsec-{uuid.uuid4().hex}",
        "lightning_poll_interval_s": 0.5,
        "lightning_poll_max_interval_s": 2.0,
        "expiry_sweep_interval_s": 0.5,
    }


def _nwc_sandbox_command(settings: Settings, port: int) -> list[str]:
    # Alby's hosted webhooks too (signed with the session's alby_webhook_secret); Svix's retries scaled.
    webhook_url = f"http://127.0.0.1:{settings.gateway_port}/v1/webhooks/lightning"
    return ["-m", "sandboxes.nwc", "--port", str(port), "--webhook-url", webhook_url, "--retry-scale", "0.01"]


def _nwc_sandbox_settings(port: int) -> dict[str, object]:
    with socket.socket() as sock:  # the relay's own port, named in the URI
        sock.bind(("127.0.0.1", 0))
        relay_port = sock.getsockname()[1]
    return {"nwc_uri": connection_uri(secrets.token_hex(32), relay_port), "nwc_timeout_s": 5.0}


SANDBOXES.append(SandboxProcess("btcpay", _btcpay_sandbox_command, _btcpay_sandbox_settings))
SANDBOXES.append(SandboxProcess("nwc", _nwc_sandbox_command, _nwc_sandbox_settings))
