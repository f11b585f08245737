"""The gateway's error middleware: whatever is raised, the answer is a JSON error, never a text page."""

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError

from services.gateway.errors import json_errors

SECRET_DETAIL = "password=hunter2 at db.internal:5432"


async def _bug(_: web.Request) -> web.Response:
    raise KeyError(SECRET_DETAIL)


async def _redis_down(_: web.Request) -> web.Response:
    raise RedisConnectionError(f"Error 111 connecting to {SECRET_DETAIL}")


async def _postgres_refused(_: web.Request) -> web.Response:
    raise ConnectionRefusedError(111, f"Connect call failed {SECRET_DETAIL}")


async def _postgres_connection_lost(_: web.Request) -> web.Response:
    raise DBAPIError("SELECT 1", None, Exception(SECRET_DETAIL), connection_invalidated=True)


@web.middleware
async def _failing_middleware(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
    if request.path == "/middleware-bug":
        raise RuntimeError(SECRET_DETAIL)
    return await handler(request)


Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    app = web.Application(middlewares=[json_errors, _failing_middleware, json_errors])
    app.router.add_get("/bug", _bug)
    app.router.add_get("/redis", _redis_down)
    app.router.add_get("/postgres-refused", _postgres_refused)
    app.router.add_get("/postgres-lost", _postgres_connection_lost)
    app.router.add_get("/middleware-bug", _bug)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_an_unexpected_error_is_a_json_500_without_its_detail(client: Client) -> None:
    response = await client.get("/bug")

    assert response.status == 500
    assert response.content_type == "application/json"
    assert (await response.json())["error"]["code"] == "internal"
    assert SECRET_DETAIL not in await response.text()


async def test_an_error_raised_by_a_middleware_is_a_json_500(client: Client) -> None:
    response = await client.get("/middleware-bug")

    assert response.status == 500
    assert (await response.json())["error"]["code"] == "internal"


@pytest.mark.parametrize("path", ["/redis", "/postgres-refused", "/postgres-lost"])
async def test_a_dependency_outage_is_a_json_503_with_retry_after(client: Client, path: str) -> None:
    response = await client.get(path)

    assert response.status == 503
    assert (await response.json())["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert SECRET_DETAIL not in await response.text()


async def test_aiohttp_http_errors_keep_their_status(client: Client) -> None:
    response = await client.get("/no-such-route")

    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
