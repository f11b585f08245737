"""Every setting of the billing services, read from the environment (prefix ``BILLING_``)."""

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Connection points, provider endpoints and secrets; defaults match ``deploy/local``."""

    model_config = SettingsConfigDict(env_prefix="BILLING_", env_file=".env", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/billing"
    kafka_bootstrap: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:56379/0"
    # Prepended to every topic and consumer group, so parallel test runs never share state.
    namespace: str = ""
    kafka_partitions: int = 4

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    # RevenueCat sends the dashboard-configured Authorization value verbatim; previous = rotation window.
    revenuecat_webhook_authorization: SecretStr = SecretStr("")
    revenuecat_webhook_authorization_previous: SecretStr | None = None
    revenuecat_api_base_url: str = "https://api.revenuecat.com"
    revenuecat_api_key: SecretStr = SecretStr("")

    # Lightning: which back end issues invoices ("none" = Lightning checkout off).
    lightning_backend: Literal["none", "btcpay", "nwc"] = "none"
    # Base URL clients and wallets reach the gateway at (LNURL-pay callbacks are built from it).
    lightning_public_base_url: str = "http://127.0.0.1:8080"
    lightning_invoice_expiry_s: int = 900
    # Bounded polling of open invoices when no settlement callback arrives (backoff up to the max).
    lightning_poll_enabled: bool = True
    lightning_poll_interval_s: float = 2.0
    lightning_poll_max_interval_s: float = 60.0
    btcpay_base_url: str = ""
    btcpay_store_id: str = ""
    btcpay_api_key: SecretStr = SecretStr("")
    # BTCPay-Sig secret of our webhook; previous = rotation window.
    btcpay_webhook_secret: SecretStr = SecretStr("")
    btcpay_webhook_secret_previous: SecretStr | None = None
    # Alby Hub over Nostr Wallet Connect: nostr+walletconnect://<wallet pubkey>?relay=…&secret=…
    nwc_uri: SecretStr = SecretStr("")
    nwc_timeout_s: float = 10.0
    # Alby hosted webhooks (Standard Webhooks / Svix, "whsec_…"); previous = rotation window.
    alby_webhook_secret: SecretStr = SecretStr("")
    alby_webhook_secret_previous: SecretStr | None = None

    # Price oracle: fiat → msat. "btcpay" reads the store's rate endpoint (the sandbox serves one).
    price_oracle_source: Literal["btcpay", "coingecko"] = "btcpay"
    price_oracle_url: str = ""
    price_oracle_cache_ttl_s: int = 60

    # Expiry sweeper: active entitlements past expires_at (plus grace) become expired.
    expiry_sweep_interval_s: float = 5.0
    expiry_sweep_grace_s: float = 0.0

    # Bounded retries before a message is dead-lettered.
    max_processing_attempts: int = 5
    retry_initial_delay_s: float = 0.2
    outbox_poll_interval_s: float = 0.05
    outbox_batch_size: int = 500

    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
