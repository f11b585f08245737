"""Which provider catalogs the sync reconciles, built from settings (a provider not configured is skipped)."""

import httpx
from redis.asyncio import Redis

from shared.connectors.catalog_port import ProviderCatalog
from shared.connectors.lightning.catalog import BtcpayCatalog
from shared.connectors.revenuecat.catalog import RevenueCatCatalog
from shared.connectors.revenuecat.client import RevenueCatClient
from shared.pricing.oracle import price_oracle_from_settings
from shared.settings import Settings


def build_provider_catalogs(
    settings: Settings, http: httpx.AsyncClient, redis: Redis
) -> list[ProviderCatalog]:
    catalogs: list[ProviderCatalog] = []
    if settings.revenuecat_project_id:
        client = RevenueCatClient.from_settings(settings, http)
        catalogs.append(RevenueCatCatalog(client, app_id=settings.catalog_sync_revenuecat_app_id))
    if settings.btcpay_base_url and settings.btcpay_store_id:
        catalogs.append(
            BtcpayCatalog(
                http,
                base_url=settings.btcpay_base_url,
                store_id=settings.btcpay_store_id,
                api_key=settings.btcpay_api_key.get_secret_value(),
                oracle=price_oracle_from_settings(settings, http, redis),
                max_attempts=settings.catalog_sync_max_attempts,
                backoff_initial_s=settings.catalog_sync_backoff_initial_s,
            )
        )
    return catalogs
