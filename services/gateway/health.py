"""Operational endpoints: liveness, readiness (the dependencies answer) and Prometheus metrics."""

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from services.gateway.context import GATEWAY

routes = web.RouteTableDef()
READINESS_TIMEOUT_S = 2.0
# Without these nothing is served; Redis only speeds requests up (they fall back without it).
REQUIRED = frozenset({"postgres", "kafka"})


@routes.get("/healthz")
async def liveness(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readiness(request: web.Request) -> web.Response:
    """503 unless Postgres and Kafka answer, so a load balancer routes around an outage; Redis down
    is ``degraded`` (200): every route still answers, from Postgres."""
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
    failing = {name for name, value in status.items() if value != "ok"}
    if failing & REQUIRED:
        return web.json_response({"status": "unavailable", **status}, status=503)
    return web.json_response({"status": "degraded" if failing else "ready", **status})


@routes.get("/metrics")
async def metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
