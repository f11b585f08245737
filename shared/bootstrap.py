"""One bootstrap: from the settings, everything a process shares, built once.

Services and CLI commands take what they need from a ``Runtime``: the database engine and sessions,
Redis, the Kafka producer, the secret provider, one HTTP client, and the configured providers with
their connectors. Nothing in the library reads settings or builds clients on its own.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.connectors.base import BillingConnector, ProviderPlugin, ProviderResources
from shared.connectors.registry import configured_providers, load_extra_providers, secret_specs
from shared.db.engine import create_engine, session_factory
from shared.domain.provider import Provider
from shared.messaging.entitlement_updates import EntitlementUpdatePublisher
from shared.messaging.producer import create_producer
from shared.messaging.telemetry import TelemetryPublisher
from shared.messaging.topics import Topics
from shared.redis_client import create_redis
from shared.security.pseudonyms import Pseudonymizer
from shared.security.secrets import SecretProvider, build_secret_provider
from shared.settings import Settings

PROVIDER_HTTP_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass
class Runtime:
    settings: Settings
    topics: Topics
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    http: httpx.AsyncClient
    producer: AIOKafkaProducer
    secrets: SecretProvider
    providers: dict[Provider, ProviderPlugin]
    telemetry: TelemetryPublisher
    connectors: dict[Provider, BillingConnector] = field(default_factory=dict)

    @property
    def provider_resources(self) -> ProviderResources:
        return ProviderResources(
            self.settings, self.http, self.sessions, self.redis, self.updates, self.telemetry
        )

    @property
    def updates(self) -> EntitlementUpdatePublisher:
        return EntitlementUpdatePublisher(self.producer, self.topics.entitlement_updates)

    async def start(self) -> None:
        """Connect what must be connected before serving (the producer); call inside the event loop."""
        await self.producer.start()

    async def close(self) -> None:
        await self.telemetry.drain()  # best effort: a moment for the last events, then they are dropped
        # stopping a producer never started is a no-op that spares the "Unclosed AIOKafkaProducer" warning
        await self.producer.stop()
        await self.http.aclose()
        await self.redis.aclose()
        await self.engine.dispose()


@asynccontextmanager
async def command_runtime(settings: Settings, *, producer: bool = False) -> AsyncIterator[Runtime]:
    """A runtime for one CLI command: one database connection, closed when the command ends."""
    runtime = bootstrap(settings, pool_size=1)
    try:
        if producer:
            await runtime.start()
        yield runtime
    finally:
        await runtime.close()


def bootstrap(settings: Settings, *, pool_size: int = 10) -> Runtime:
    """Build the process's shared resources; clients connect lazily or in ``Runtime.start``."""
    load_extra_providers(settings)  # before the registry is read: secrets, providers
    engine = create_engine(settings.database_url, pool_size=pool_size)
    topics = Topics(settings.namespace)
    producer = create_producer(settings)
    secrets = build_secret_provider(settings, secret_specs())
    runtime = Runtime(
        settings=settings,
        topics=topics,
        engine=engine,
        sessions=session_factory(engine),
        redis=create_redis(settings),
        http=httpx.AsyncClient(timeout=PROVIDER_HTTP_TIMEOUT),
        producer=producer,
        secrets=secrets,
        providers=configured_providers(settings),
        telemetry=TelemetryPublisher(
            producer,
            topics.telemetry,
            Pseudonymizer(secrets),
            source="hometryon-billing",
            max_pending=settings.telemetry_max_pending,
            send_timeout_s=settings.telemetry_send_timeout_s,
        ),
    )
    resources = runtime.provider_resources
    runtime.connectors = {name: plugin.connector(resources) for name, plugin in runtime.providers.items()}
    return runtime
