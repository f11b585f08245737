"""Operational endpoints: liveness, readiness (every dependency answers) and Prometheus metrics."""

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from services.gateway.context import GATEWAY

routes = web.RouteTableDef()
READINESS_TIMEOUT_S = 2.0


@routes.get("/healthz")
async def liveness(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readiness(request: web.Request) -> web.Response:
    """503 unless Postgres, Redis and Kafka all answer, so a load balancer routes around an outage."""
    ctx = request.app[GATEWAY]

    async def postgres() -> None:
        async with ctx.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def redis() -> None:
        await ctx.redis.ping()

    async def kafka() -> None:
        await ctx.producer.partitions_for(ctx.topics.webhooks_raw)

    checks = {"postgres": postgres, "redis": redis, "kafka": kafka}
    results = await asyncio.gather(
        *(asyncio.wait_for(check(), READINESS_TIMEOUT_S) for check in checks.values()),
        return_exceptions=True,
    )
    status = {name: "ok" if r is None else type(r).__name__ for name, r in zip(checks, results, strict=True)}
    ready = all(value == "ok" for value in status.values())
    return web.json_response(
        {"status": "ready" if ready else "unavailable", **status}, status=200 if ready else 503
    )


@routes.get("/metrics")
async def metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
