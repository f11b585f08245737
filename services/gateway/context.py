"""What the gateway's handlers share: settings, the Kafka producer, the database sessions."""

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.idempotency import IdempotencyStore
from shared.connectors.base import BillingConnector, ProviderPlugin
from shared.domain.provider import Provider
from shared.entitlement_cache import FeatureCache
from shared.messaging.telemetry import TelemetryPublisher
from shared.messaging.topics import Topics
from shared.security.secrets import SecretProvider
from shared.settings import Settings


@dataclass(frozen=True)
class GatewayContext:
    settings: Settings
    topics: Topics
    producer: AIOKafkaProducer
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    secrets: SecretProvider
    providers: Mapping[Provider, ProviderPlugin]
    connectors: Mapping[Provider, BillingConnector]
    checkout_idempotency: IdempotencyStore
    # One per process: it remembers a Redis failure until it has invalidated what it may have missed.
    feature_cache: FeatureCache
    # Funnel events, best effort (never awaited by a request).
    telemetry: TelemetryPublisher


GATEWAY = web.AppKey("gateway", GatewayContext)
