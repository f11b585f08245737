"""What the gateway lends provider routes and background tasks: set once at start-up."""

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.base import BillingConnector
from shared.domain.provider import Provider
from shared.messaging.topics import Topics
from shared.settings import Settings


@dataclass(frozen=True)
class GatewayRuntime:
    settings: Settings
    topics: Topics
    producer: AIOKafkaProducer
    sessions: async_sessionmaker[AsyncSession]
    connectors: Mapping[Provider, BillingConnector]


GATEWAY_RUNTIME = web.AppKey("gateway_runtime", GatewayRuntime)
