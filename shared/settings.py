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
