"""The HTTP gateway (aiohttp): webhooks in, entitlements out, and each provider's own routes."""

from collections.abc import AsyncIterator

from aiohttp import web

from services.gateway import (
    admin,
    asyncapi,
    checkout,
    entitlements,
    features,
    health,
    packs,
    receipts,
    revocations,
    webhooks,
)
from services.gateway.api_docs import install_api_docs
from services.gateway.context import GATEWAY, GatewayContext
from services.gateway.errors import json_errors
from services.gateway.idempotency import IdempotencyStore
from services.gateway.security import install_security
from shared.bootstrap import bootstrap
from shared.connectors.gateway_runtime import GATEWAY_RUNTIME, GatewayRuntime
from shared.connectors.registry import REGISTERED_PROVIDERS, configured_providers
from shared.entitlement_cache import FeatureCache
from shared.logging import configure_logging
from shared.messaging.topics import ensure_topics
from shared.observability.request_context import request_context
from shared.observability.tracing import configure_tracing
from shared.settings import Settings

MAX_BODY_BYTES = 1024 * 1024


def build_app(settings: Settings) -> web.Application:
    configure_logging(settings)
    configure_tracing("gateway")
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app.add_routes(webhooks.routes)
    app.add_routes(entitlements.routes)
    app.add_routes(checkout.routes)
    app.add_routes(packs.routes)
    app.add_routes(features.routes)
    app.add_routes(admin.routes)
    app.add_routes(revocations.routes)
    app.add_routes(receipts.routes)
    app.add_routes(health.routes)
    app.add_routes(asyncapi.routes)
    install_api_docs(app, settings)
    # Every provider's routes are served; a provider not configured here answers them with a 422.
    for plugin in REGISTERED_PROVIDERS:
        app.add_routes(plugin.gateway_routes)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        await ensure_topics(settings)
        runtime = bootstrap(settings)
        await runtime.start()
        app[GATEWAY] = GatewayContext(
            settings=settings,
            topics=runtime.topics,
            producer=runtime.producer,
            sessions=runtime.sessions,
            redis=runtime.redis,
            secrets=runtime.secrets,
            providers=runtime.providers,
            connectors=runtime.connectors,
            checkout_idempotency=IdempotencyStore(runtime.sessions, "checkout"),
            feature_cache=FeatureCache(runtime.redis, settings.namespace),
            telemetry=runtime.telemetry,
        )
        app[GATEWAY_RUNTIME] = GatewayRuntime(
            settings, runtime.topics, runtime.producer, runtime.sessions, runtime.connectors
        )
        yield
        await runtime.close()

    app.cleanup_ctx.append(resources)
    install_security(app, settings)  # after resources: it uses the gateway's Redis
    app.middlewares.insert(0, request_context)  # outermost: the request id and span cover everything
    for plugin in configured_providers(settings).values():
        app.cleanup_ctx.extend(plugin.gateway_tasks())
    return app
