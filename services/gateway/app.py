"""The HTTP gateway (aiohttp): webhooks in, entitlements out."""

from collections.abc import AsyncIterator

from aiohttp import web

from services.gateway import entitlements, webhooks
from services.gateway.context import GATEWAY, GatewayContext
from services.gateway.errors import json_errors
from shared.db.engine import create_engine, session_factory
from shared.logging import configure_logging
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics, ensure_topics
from shared.settings import Settings

MAX_BODY_BYTES = 1024 * 1024


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(settings: Settings) -> web.Application:
    configure_logging(settings)
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app.add_routes(webhooks.routes)
    app.add_routes(entitlements.routes)
    app.router.add_get("/healthz", health)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        await ensure_topics(settings)
        producer = create_producer(settings)
        await producer.start()
        engine = create_engine(settings.database_url)
        app[GATEWAY] = GatewayContext(
            settings=settings,
            topics=Topics(settings.namespace),
            producer=producer,
            sessions=session_factory(engine),
        )
        yield
        await producer.stop()
        await engine.dispose()

    app.cleanup_ctx.append(resources)
    return app
