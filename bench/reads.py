"""Reads under concurrency: a user's entitlements and one feature check, cold and warm cache.

Cold: every request is for a user not read before (the Redis feature cache misses and loads from
Postgres). Warm: the same users again, their grants cached.
"""

import asyncio
import time
from typing import Any

import aiohttp

from bench.stack import BenchStack
from bench.stats import latency_summary_ms, rate


async def measure_reads(
    stack: BenchStack, path_of: list[str], *, concurrency: int, repeat: int = 1
) -> dict[str, Any]:
    """GET each path (``repeat`` times over) with ``concurrency`` requests in flight."""
    paths = path_of * repeat
    latencies: list[float] = []
    errors = 0
    next_index = 0
    headers = {"X-API-Key": stack.api_key}

    async def lane(http: aiohttp.ClientSession) -> None:
        nonlocal next_index, errors
        while next_index < len(paths):
            path = paths[next_index]
            next_index += 1
            began = time.perf_counter()
            async with http.get(f"{stack.gateway_url}{path}", headers=headers) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(lane(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests": len(paths), "errors": errors, "req_per_s": rate(len(paths), elapsed)} | (
        latency_summary_ms(latencies)
    )


async def read_benchmarks(
    stack: BenchStack, users: list[str], feature: str, *, concurrency: int, warm_repeat: int
) -> dict[str, Any]:
    """Cold then warm, for the entitlements list and the feature check (disjoint users for each cold run)."""
    half = len(users) // 2
    entitlement_paths = [f"/v1/users/{u}/entitlements" for u in users[:half]]
    feature_paths = [f"/v1/users/{u}/features/{feature}" for u in users[half:]]
    warm_entitlements = entitlement_paths[:200]
    warm_features = feature_paths[:200]
    return {
        "concurrency": concurrency,
        "entitlements_cold": await measure_reads(stack, entitlement_paths, concurrency=concurrency),
        "entitlements_warm": await measure_reads(
            stack, warm_entitlements, concurrency=concurrency, repeat=warm_repeat
        ),
        "feature_cold": await measure_reads(stack, feature_paths, concurrency=concurrency),
        "feature_warm": await measure_reads(
            stack, warm_features, concurrency=concurrency, repeat=warm_repeat
        ),
        # one request in flight: the latency of a read itself, without queueing behind the others
        "feature_warm_serial": await measure_reads(stack, warm_features, concurrency=1, repeat=2),
    }
