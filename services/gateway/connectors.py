"""Which provider connectors the gateway offers, built once at start-up from settings."""

from collections.abc import Mapping

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.base import BillingConnector
from shared.connectors.lightning.gateway_adapter import lightning_adapter_for_gateway
from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.domain.provider import Provider
from shared.settings import Settings


def build_connectors(
    settings: Settings,
    http: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> Mapping[Provider, BillingConnector]:
    """One connector per configured provider; each provider's folder adds its own here."""
    connectors: dict[Provider, BillingConnector] = {}
    connectors[Provider.REVENUECAT] = RevenueCatAdapter(settings, http, sessions)
    if settings.lightning_backend != "none":
        connectors[Provider.LIGHTNING] = lightning_adapter_for_gateway(settings, http, sessions, redis)
    return connectors
