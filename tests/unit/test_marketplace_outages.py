"""A marketplace page whose database or Redis is down answers 503 "try again", never a 500 trace."""

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from services.marketplace.outages import dependency_outages


async def _database_down(_: web.Request) -> web.Response:
    raise OperationalError("SELECT 1", None, ConnectionRefusedError("connection refused"))


async def _redis_down(_: web.Request) -> web.Response:
    raise RedisConnectionError("connection refused")


def _app() -> web.Application:
    app = web.Application(middlewares=[dependency_outages])
    app.router.add_get("/market/", _database_down)
    app.router.add_get("/market/checkout/{id}/status", _redis_down)
    app.router.add_get("/v1/packs", _database_down)
    return app


async def test_a_page_answers_try_again_with_retry_after() -> None:
    async with TestClient(TestServer(_app())) as client:
        page = await client.get("/market/")
        assert page.status == 503 and page.headers["Retry-After"] == "5"
        assert "Try again in a moment" in await page.text()


async def test_the_status_poll_answers_json() -> None:
    async with TestClient(TestServer(_app())) as client:
        status = await client.get("/market/checkout/x/status")
        assert status.status == 503
        assert (await status.json())["error"]["code"] == "temporarily_unavailable"


async def test_api_routes_are_left_to_the_api() -> None:
    async with TestClient(TestServer(_app())) as client:
        assert (await client.get("/v1/packs")).status == 500
