"""How a sandbox is set up: where webhooks go and which keys it accepts."""

from dataclasses import dataclass

# RevenueCat retries a failed webhook 5 times, 5, 10, 20, 40 and 80 minutes apart.
RETRY_DELAYS_MINUTES = (5, 10, 20, 40, 80)


@dataclass(frozen=True)
class SandboxConfig:
    webhook_url: str
    webhook_authorization: str
    api_key: str
    api_v2_key: str
    project_id: str = "proj_sandbox"
    app_id: str = "app_sandbox"
    # One RevenueCat "minute" of the retry schedule, in milliseconds (compressed for tests).
    retry_unit_ms: float = 60_000
    delivery_timeout_s: float = 60.0
    environment: str = "SANDBOX"

    def retry_delays_s(self) -> list[float]:
        return [minutes * self.retry_unit_ms / 1000 for minutes in RETRY_DELAYS_MINUTES]
