"""What the gateway's handlers share: settings, the Kafka producer, the database sessions."""

from dataclasses import dataclass

from aiohttp import web
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messaging.topics import Topics
from shared.settings import Settings


@dataclass(frozen=True)
class GatewayContext:
    settings: Settings
    topics: Topics
    producer: AIOKafkaProducer
    sessions: async_sessionmaker[AsyncSession]


GATEWAY = web.AppKey("gateway", GatewayContext)
