"""The ``LightningAdapter`` the gateway offers for checkout: back ends plus the price oracle."""

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.lightning.adapter import LightningAdapter, configured_backends
from shared.pricing.oracle import price_oracle_from_settings
from shared.settings import Settings


def lightning_adapter_for_gateway(
    settings: Settings, http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> LightningAdapter:
    return LightningAdapter(
        settings,
        sessions,
        configured_backends(settings, http),
        price_oracle_from_settings(settings, http, redis),
    )
