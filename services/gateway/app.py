"""The HTTP gateway (aiohttp): webhooks in, entitlements out."""

from collections.abc import AsyncIterator

import httpx
from aiohttp import web
from redis.asyncio import Redis

from services.gateway import (
    admin,
    checkout,
    entitlements,
    features,
    health,
    lightning_refunds,
    lightning_watch,
    lightning_webhooks,
    lnurl,
    packs,
    webhooks,
)
from services.gateway.connectors import build_connectors
from services.gateway.context import GATEWAY, GatewayContext
from services.gateway.errors import json_errors
from services.gateway.idempotency import IdempotencyStore
from services.gateway.security import install_security
from services.marketplace.app import install_marketplace
from shared.db.engine import create_engine, session_factory
from shared.logging import configure_logging
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics, ensure_topics
from shared.settings import Settings

MAX_BODY_BYTES = 1024 * 1024


def build_app(settings: Settings) -> web.Application:
    configure_logging(settings)
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app.add_routes(webhooks.routes)
    app.add_routes(entitlements.routes)
    app.add_routes(checkout.routes)
    app.add_routes(packs.routes)
    app.add_routes(features.routes)
    app.add_routes(admin.routes)
    app.add_routes(health.routes)
    app.add_routes(lightning_webhooks.routes)
    app.add_routes(lnurl.routes)
    app.add_routes(lightning_refunds.routes)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        await ensure_topics(settings)
        producer = create_producer(settings)
        await producer.start()
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        redis = Redis.from_url(settings.redis_url)
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        app[GATEWAY] = GatewayContext(
            settings=settings,
            topics=Topics(settings.namespace),
            producer=producer,
            sessions=sessions,
            redis=redis,
            connectors=build_connectors(settings, http, sessions, redis),
            checkout_idempotency=IdempotencyStore(redis, f"{settings.namespace}checkout"),
        )
        yield
        await producer.stop()
        await http.aclose()
        await redis.aclose()
        await engine.dispose()

    app.cleanup_ctx.append(resources)
    install_security(app, settings)  # after resources: it uses the gateway's Redis
    install_marketplace(app, settings)  # after security: its session cookie uses the secret provider
    app.cleanup_ctx.append(lightning_watch.run_in_background)
    return app
