"""RevenueCat's settings section: ``BILLING_REVENUECAT_<FIELD>`` is ``settings.revenuecat.<field>``."""

from pydantic import BaseModel, SecretStr


class RevenueCatSettings(BaseModel):
    """The RevenueCat API, its webhook's authorization, checkout links and its expiry grace."""

    # RevenueCat sends the dashboard-configured Authorization value verbatim; previous = rotation window.
    webhook_authorization: SecretStr = SecretStr("")
    webhook_authorization_previous: SecretStr | None = None
    # API v1 and v2 live under one host; the adapter appends /v1/... and /v2/... (a sandbox in tests).
    api_base_url: str = "https://api.revenuecat.com"
    api_key: SecretStr = SecretStr("")
    # v2 keys are separate, permission-scoped secret keys; empty = use api_key.
    api_v2_key: SecretStr = SecretStr("")
    project_id: str = ""
    # catalog_sync creates products in this app of the project (v2 needs its id; empty = the default app).
    app_id: str = ""
    http_timeout_s: float = 10.0
    # Attempts per API call (429/5xx/transport errors); 429 waits backoff_ms, else exponential backoff.
    http_max_attempts: int = 4
    http_backoff_initial_s: float = 0.5
    http_backoff_max_s: float = 30.0
    # Web Purchase Links: https://pay.rev.cat/<token>/<url-encoded app user id>. The token comes from
    # the pack's provider ids ("web_purchase_link_token"), else this default; empty = no link.
    web_purchase_base_url: str = "https://pay.rev.cat"
    web_purchase_link_token: str = ""
    # Our own hosted paywall, used when a pack has no Web Purchase Link (and offered as a fallback).
    hosted_paywall_url: str = "http://127.0.0.1:8080/paywall"
    # `billing up` runs the RevenueCat sandbox here and points the adapter at it (0 = no sandbox).
    sandbox_port: int = 8091
    # RevenueCat sends EXPIRATION itself (up to ~1 h late); its sweep waits this long past expires_at.
    expiry_sweep_grace_s: float = 7200.0
