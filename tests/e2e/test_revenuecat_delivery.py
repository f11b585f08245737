"""Failures on the way: the gateway answering 5xx, RevenueCat rate limiting or down, and nothing lost."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from apps.stack.processes import free_port
from apps.stack.sandboxes import REVENUECAT_RETRY_UNIT_MS
from shared.messaging.topics import Topics
from tests.conftest import Stack
from tests.infra.revenuecat import (
    RevenueCatSandbox,
    announced,
    entitlement_rows,
    make_pack,
    wait_until_applied,
)


@pytest.fixture
async def product(stack: Stack) -> str:
    _, product_id = await make_pack(stack.sessions)
    return product_id


class FailingFirstProxy:
    """Answers 503 to the first ``failures`` requests, then forwards them to the gateway as they came."""

    def __init__(self, target: str, failures: int) -> None:
        self.target = target
        self.failures = failures
        self.statuses: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if len(self.statuses) < self.failures:
            self.statuses.append(503)
            return web.json_response({"error": "unavailable"}, status=503)
        headers = {k: v for k, v in request.headers.items() if k in ("Authorization", "Content-Type")}
        async with httpx.AsyncClient() as client:
            answer = await client.post(self.target, content=body, headers=headers)
        self.statuses.append(answer.status_code)
        return web.Response(body=answer.content, status=answer.status_code, content_type="application/json")


@pytest.fixture
async def failing_gateway(stack: Stack) -> AsyncIterator[tuple[str, FailingFirstProxy]]:
    proxy = FailingFirstProxy(f"{stack.gateway_url}/v1/webhooks/revenuecat", failures=2)
    app = web.Application()
    app.router.add_post("/", proxy.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/", proxy
    await runner.cleanup()


async def test_gateway_5xx_is_retried_on_revenuecats_schedule_until_it_lands_once(
    stack: Stack,
    rc: RevenueCatSandbox,
    user_id: str,
    product: str,
    failing_gateway: tuple[str, FailingFirstProxy],
) -> None:
    url, proxy = failing_gateway
    event = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product, webhook_url=url)
    await rc.wait_delivered(event["id"])
    await wait_until_applied(stack.sessions, event["id"], user_id)

    [delivery] = await rc.deliveries(event["id"])
    assert [a["status"] for a in delivery["attempts"]] == [503, 503, 200]
    assert proxy.statuses == [503, 503, 200]  # the third attempt reached the gateway, which said 200
    gaps_ms = [
        b["at_ms"] - a["at_ms"] for a, b in zip(delivery["attempts"], delivery["attempts"][1:], strict=False)
    ]
    assert gaps_ms[0] >= 5 * REVENUECAT_RETRY_UNIT_MS and gaps_ms[1] >= 10 * REVENUECAT_RETRY_UNIT_MS
    await stack.published.caught_up()
    assert (
        len(stack.published.on(stack.topics.webhooks_raw, lambda r: event["id"].encode() in (r.key or b"")))
        == 1
    )
    assert await announced(stack.sessions, event["id"]) == [("entitlement.activated", user_id)]


async def test_rate_limited_subscribers_api_is_retried_after_backoff_ms(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await rc.fault(scope="v1", mode="rate_limit", app_user_id=f"rc_{user_id}", count=1, backoff_ms=100)
    event = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, event["id"], user_id)
    assert await rc.api_calls(f"rc_{user_id}") == 2  # the 429, then the read that succeeded
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", None)}


@pytest.mark.parametrize("mode", ["error", "drop"])  # HTTP 503, then a dropped connection
async def test_subscribers_api_down_is_retried_until_it_is_back_and_never_dead_lettered(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str, mode: str
) -> None:
    app_user_id = f"rc_{user_id}"
    await rc.fault(scope="v1", mode=mode, app_user_id=app_user_id)
    try:
        event = await rc.simulate("purchase", app_user_id=app_user_id, product_id=product)
        # More processing attempts than the bound that once dead-lettered it, each making the
        # adapter's own bounded attempts at the API.
        calls = (stack.settings.max_processing_attempts + 1) * stack.settings.revenuecat.http_max_attempts
        await _wait_for_api_calls(rc, app_user_id, calls)
        assert await entitlement_rows(stack.sessions, user_id) == {}
    finally:
        await rc.fault(scope="v1", mode="off", app_user_id=app_user_id)

    await wait_until_applied(stack.sessions, event["id"], user_id)
    assert await announced(stack.sessions, event["id"]) == [("entitlement.activated", user_id)]
    await stack.published.caught_up()
    dlq = Topics.dead_letters_of(stack.topics.webhooks_raw)
    assert stack.published.on(dlq, lambda r: r.key == f"revenuecat:{event['id']}".encode()) == []


async def _wait_for_api_calls(
    rc: RevenueCatSandbox, app_user_id: str, calls: int, timeout_s: float = 60
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while await rc.api_calls(app_user_id) < calls:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"fewer than {calls} subscribers API calls within {timeout_s}s")
        await asyncio.sleep(0.1)
