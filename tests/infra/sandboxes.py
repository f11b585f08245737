"""Provider sandboxes a test session starts beside our services.

Each provider folder appends its sandbox here: how to start it on a given port and which settings
point our services at it. Settings are computed before any process starts, so the gateway, the
consumers and the sandboxes all know each other's addresses.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

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
        settings.revenuecat_project_id,
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
    }


SANDBOXES.append(SandboxProcess("revenuecat", _revenuecat_sandbox_command, _revenuecat_sandbox_settings))
