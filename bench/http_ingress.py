"""The bare HTTP-ingress bound: an aiohttp handler that produces each body to Kafka with our producer
(``create_producer``, as the gateway's bootstrap builds it) and answers 200 after the ack; nothing
else. The bench POSTs the pipeline's own webhook bodies at it with the same client and concurrency.

``python -m bench.http_ingress <port> <topic>`` serves it (settings from the environment), in a
process of its own like the gateway.
"""

import asyncio
import subprocess
import sys
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaProducer

from apps.stack.processes import REPO_ROOT, free_port, settings_env, wait_for_http
from bench.raw_bounds import create_bench_topic
from bench.stack import BenchStack
from bench.stats import latency_summary_ms, rate
from shared.messaging.producer import create_producer
from shared.settings import get_settings


def ingress_app(topic: str) -> web.Application:
    app = web.Application()
    producers: list[AIOKafkaProducer] = []  # made inside the running loop, as aiokafka requires

    async def start(_: web.Application) -> None:
        producers.append(create_producer(get_settings()))
        await producers[0].start()

    async def stop(_: web.Application) -> None:
        await producers[0].stop()

    async def accept(request: web.Request) -> web.Response:
        body = await request.read()
        await producers[0].send_and_wait(topic, value=body, key=request.headers.get("X-Key", "").encode())
        return web.json_response({"accepted": True})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_post("/ingress", accept)
    app.router.add_get("/healthz", healthz)
    return app


def _start_ingress(stack: BenchStack, port: int, topic: str) -> subprocess.Popen[bytes]:
    log_file = (stack.log_dir / "http-ingress.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bench.http_ingress", str(port), topic],
        env=settings_env(stack.settings),
        cwd=REPO_ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


async def http_ingress(stack: BenchStack, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    """POST ``bodies`` at the bare ingress with ``concurrency`` in flight: requests/s and latency."""
    port = free_port()
    topic = f"{stack.settings.namespace}raw-bound-http-{uuid.uuid4().hex[:6]}"
    await create_bench_topic(stack, topic)
    child = _start_ingress(stack, port, topic)
    url = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    errors = 0
    try:
        await wait_for_http(f"{url}/healthz")
        queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        for item in enumerate(bodies):
            queue.put_nowait(item)

        async def lane(http: aiohttp.ClientSession) -> None:
            nonlocal errors
            while not queue.empty():
                i, body = queue.get_nowait()
                began = time.perf_counter()
                headers = {"X-Key": str(i % 64), "Content-Type": "application/json"}
                async with http.post(f"{url}/ingress", data=body, headers=headers) as response:
                    await response.read()
                    errors += response.status != 200
                latencies.append(time.perf_counter() - began)

        # The pipeline's client (bench/pipeline.py): aiohttp, one connection per request in flight.
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            started = time.perf_counter()
            await asyncio.gather(*(lane(http) for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
    finally:
        child.terminate()
        child.wait(timeout=20)
    return {
        "requests": len(bodies),
        "concurrency": concurrency,
        "req_per_s": rate(len(bodies), elapsed),
        "errors": errors,
    } | latency_summary_ms(latencies)


if __name__ == "__main__":
    web.run_app(ingress_app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), print=None)
