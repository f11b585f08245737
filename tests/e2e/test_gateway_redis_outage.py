"""Redis down for the gateway: reads keep working from Postgres, errors stay JSON, and once Redis is
back no revoked user is served an "allowed" cached before the revocation.

The shared Redis is never stopped: a second gateway reaches it through a link the test cuts.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select, update

from apps.stack.processes import wait_for_http
from shared.db.models import CheckoutSessionRecord, UserEntitlement
from shared.domain.entitlements import EntitlementStatus
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, extra_service, unique_suffix
from tests.infra.catalog_entitlements import apply_and_wait, entitlement_update
from tests.infra.lightning import lightning_pack
from tests.infra.redis_link import RedisLink
from tests.infra.revenuecat import make_pack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


@dataclass(frozen=True)
class CutOffGateway:
    url: str
    redis: RedisLink


@pytest.fixture(scope="module")
async def gateway(stack: Stack) -> AsyncIterator[CutOffGateway]:
    redis = httpx.URL(stack.settings.redis_url)
    link = RedisLink(redis.host, redis.port or 6379)
    await link.restore()
    overrides = {"redis_url": link.url, "lightning_poll_enabled": False}
    with extra_service(stack, "gateway", "gateway-redis-link", **overrides) as settings:
        url = f"http://127.0.0.1:{settings.gateway_port}"
        await wait_for_http(f"{url}/healthz")
        yield CutOffGateway(url, link)
    await link.cut()


@pytest.fixture
async def redis_cut(gateway: CutOffGateway) -> AsyncIterator[RedisLink]:
    await gateway.redis.cut()
    try:
        yield gateway.redis
    finally:
        await gateway.redis.restore()


@pytest.fixture
async def owned_feature(stack: Stack, user_id: str) -> str:
    """A feature ``user_id`` owns through an active RevenueCat entitlement; returns its name."""
    suffix = unique_suffix()
    await apply_catalog(
        stack,
        f"""
catalog: outage-{suffix}
packs:
  - slug: outage-{suffix}
    display_name: Outage pack
    features: [outage.{suffix}]
    price: 499
    providers: {{revenuecat: {{product_id: rc.outage.{suffix}, price: 499, currency: USD}}}}
""",
    )
    await apply_and_wait(
        stack, entitlement_update(user_id, f"rc.outage.{suffix}", "tx-1", EntitlementStatus.ACTIVE)
    )
    return f"outage.{suffix}"


async def checkout_sessions_of(stack: Stack, user_id: str) -> int:
    async with stack.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(CheckoutSessionRecord)
            .where(CheckoutSessionRecord.user_id == user_id)
        )
    return int(count or 0)


def _assert_json_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code


async def _allowed(http: httpx.AsyncClient, gateway: CutOffGateway, user_id: str, feature: str) -> bool:
    response = await http.get(f"{gateway.url}/v1/users/{user_id}/features/{feature}")
    assert response.status_code == 200, response.text
    allowed: bool = response.json()["allowed"]
    return allowed


async def test_pack_list_is_served_while_redis_is_down(
    http: httpx.AsyncClient, gateway: CutOffGateway, redis_cut: RedisLink
) -> None:
    response = await http.get(f"{gateway.url}/v1/packs")

    assert response.status_code == 200, response.text
    assert isinstance(response.json()["packs"], list)


async def test_entitlements_are_read_from_postgres_while_redis_is_down(
    http: httpx.AsyncClient, gateway: CutOffGateway, user_id: str, owned_feature: str, redis_cut: RedisLink
) -> None:
    response = await http.get(f"{gateway.url}/v1/users/{user_id}/entitlements")

    assert response.status_code == 200, response.text
    assert response.json()["features"] == [owned_feature]


async def test_feature_check_falls_back_to_postgres_while_redis_is_down(
    http: httpx.AsyncClient, gateway: CutOffGateway, user_id: str, owned_feature: str, redis_cut: RedisLink
) -> None:
    assert await _allowed(http, gateway, user_id, owned_feature) is True
    assert await _allowed(http, gateway, user_id, "not.owned") is False


async def test_revocation_while_redis_is_down_is_not_served_from_the_cache_once_it_is_back(
    stack: Stack, http: httpx.AsyncClient, gateway: CutOffGateway, user_id: str, owned_feature: str
) -> None:
    assert await _allowed(http, gateway, user_id, owned_feature) is True  # now cached as allowed
    await gateway.redis.cut()
    try:
        assert await _allowed(http, gateway, user_id, owned_feature) is True
        # Committed while Redis is unreachable: the relay cannot invalidate the cached "allowed".
        async with stack.sessions() as session, session.begin():
            await session.execute(
                update(UserEntitlement)
                .where(UserEntitlement.user_id == user_id)
                .values(status=EntitlementStatus.REVOKED.value)
            )
        assert await _allowed(http, gateway, user_id, owned_feature) is False
    finally:
        await gateway.redis.restore()

    assert await _allowed(http, gateway, user_id, owned_feature) is False


async def test_a_dependency_outage_answers_503_json_with_retry_after(
    stack: Stack, http: httpx.AsyncClient, gateway: CutOffGateway, redis_cut: RedisLink
) -> None:
    # A Lightning checkout prices the pack through the Redis-cached rate oracle.
    pack, _ = await lightning_pack(stack.sessions, price=500, currency="USD")
    response = await http.post(
        f"{gateway.url}/v1/checkout",
        json={"userId": f"user-{uuid.uuid4().hex[:8]}", "packSlug": pack.slug, "provider": "lightning"},
    )

    _assert_json_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) > 0
    assert "redis" not in response.text.lower()  # no detail of our internals


async def test_checkout_retried_after_its_completion_failed_returns_the_first_session(
    stack: Stack, http: httpx.AsyncClient, gateway: CutOffGateway, user_id: str
) -> None:
    pack, _ = await make_pack(stack.sessions)
    checkout = {"userId": user_id, "packSlug": pack.slug, "provider": "revenuecat"}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    gateway.redis.failing = b'"state":"done"'  # a key's completion, were it written to Redis
    try:
        first = await http.post(f"{gateway.url}/v1/checkout", json=checkout, headers=headers)
    finally:
        gateway.redis.failing = None
    retry = await http.post(f"{gateway.url}/v1/checkout", json=checkout, headers=headers)

    assert retry.status_code == 201, retry.text
    assert await checkout_sessions_of(stack, user_id) == 1
    if first.status_code == 201:
        assert retry.json() == first.json()


async def test_readiness_stays_up_degraded_while_redis_is_down(
    http: httpx.AsyncClient, gateway: CutOffGateway, redis_cut: RedisLink
) -> None:
    # Every route answers without Redis, so a load balancer must keep sending traffic.
    response = await http.get(f"{gateway.url}/readyz")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "degraded"
    assert response.json()["redis"] != "ok"
