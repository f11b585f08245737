"""The RevenueCat client against the sandbox over real HTTP: retries, 429 backoff, errors, v2 paging."""

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from sandboxes.revenuecat.app import build_app
from sandboxes.revenuecat.config import SandboxConfig
from shared.connectors.revenuecat.client import RetryPolicy, RevenueCatClient, backoff_from_429
from shared.domain.errors import ProviderError

API_KEY = "sk_client_test"
PROJECT = "proj_client"


@pytest.fixture
async def sandbox() -> AsyncIterator[str]:
    config = SandboxConfig(
        webhook_url="http://127.0.0.1:9/unused",
        webhook_authorization="",
        api_key=API_KEY,
        api_v2_key="",
        project_id=PROJECT,
    )
    server = TestServer(build_app(config), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _client(http: httpx.AsyncClient, base: str, key: str = API_KEY, attempts: int = 3) -> RevenueCatClient:
    return RevenueCatClient(
        http,
        base_url=base,
        api_key=SecretStr(key),
        project_id=PROJECT,
        timeout_s=5,
        retry=RetryPolicy(max_attempts=attempts, initial_s=0.01, max_s=0.2),
    )


async def _calls(http: httpx.AsyncClient, base: str, app_user_id: str) -> int:
    answer = await http.get(f"{base}/control/api-calls", params={"api": "v1", "app_user_id": app_user_id})
    count: int = answer.json()["count"]
    return count


def test_429_wait_prefers_backoff_ms_over_retry_after() -> None:
    response = httpx.Response(429, json={"backoff_ms": 250}, headers={"Retry-After": "7"})
    assert backoff_from_429(response) == 0.25


def test_429_wait_falls_back_to_retry_after_seconds() -> None:
    assert backoff_from_429(httpx.Response(429, text="slow down", headers={"Retry-After": "2"})) == 2.0


async def test_rate_limited_call_is_retried_and_succeeds(sandbox: str, http: httpx.AsyncClient) -> None:
    await http.post(
        f"{sandbox}/control/faults",
        json={"scope": "v1", "mode": "rate_limit", "app_user_id": "rc_rl", "count": 2, "backoff_ms": 20},
    )
    body = await _client(http, sandbox).get_subscriber("rc_rl")
    assert body["subscriber"]["original_app_user_id"] == "rc_rl"
    assert await _calls(http, sandbox, "rc_rl") == 3


async def test_server_errors_exhaust_the_attempts_as_a_retryable_provider_error(
    sandbox: str, http: httpx.AsyncClient
) -> None:
    await http.post(
        f"{sandbox}/control/faults", json={"scope": "v1", "mode": "error", "app_user_id": "rc_down"}
    )
    with pytest.raises(ProviderError) as failure:
        await _client(http, sandbox, attempts=3).get_subscriber("rc_down")
    assert (failure.value.retryable, failure.value.status) == (True, 503)
    assert await _calls(http, sandbox, "rc_down") == 3


async def test_wrong_key_fails_at_once_and_is_not_retryable(sandbox: str, http: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderError) as failure:
        await _client(http, sandbox, key="sk_wrong").get_subscriber("rc_key")
    assert (failure.value.retryable, failure.value.status) == (False, 401)


async def test_unreachable_api_is_a_retryable_provider_error(http: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderError) as failure:
        await _client(http, "http://127.0.0.1:9", attempts=2).get_subscriber("rc_nowhere")
    assert failure.value.retryable


async def test_app_user_id_is_url_encoded(sandbox: str, http: httpx.AsyncClient) -> None:
    body = await _client(http, sandbox).get_subscriber("rc_a b/c")
    assert body["subscriber"]["original_app_user_id"] == "rc_a b/c"


async def test_v2_lists_every_page(sandbox: str, http: httpx.AsyncClient) -> None:
    client = _client(http, sandbox)
    for n in range(130):
        await client.post_v2("products", {"store_identifier": f"com.hto.p{n}", "type": "subscription"})
    products = await client.list_v2("products")
    assert sorted(p["store_identifier"] for p in products) == sorted(f"com.hto.p{n}" for n in range(130))


async def test_v2_entitlement_with_attached_product_and_offering_package(
    sandbox: str, http: httpx.AsyncClient
) -> None:
    client = _client(http, sandbox)
    product = await client.post_v2("products", {"store_identifier": "com.hto.tryon", "type": "subscription"})
    entitlement = await client.post_v2("entitlements", {"lookup_key": "try-on", "display_name": "Try-On"})
    for _ in range(2):  # attaching is idempotent
        await client.post_v2(
            f"entitlements/{entitlement['id']}/actions/attach_products", {"product_ids": [product["id"]]}
        )
    offering = await client.post_v2("offerings", {"lookup_key": "try-on", "display_name": "Try-On"})
    package = await client.post_v2(
        f"offerings/{offering['id']}/packages", {"lookup_key": "$rc_monthly", "display_name": "Monthly"}
    )
    await client.post_v2(
        f"packages/{package['id']}/actions/attach_products",
        {"products": [{"product_id": product["id"], "eligibility_criteria": "all"}]},
    )

    [listed] = await client.list_v2("entitlements", {"expand": "items.product"})
    assert [p["store_identifier"] for p in listed["products"]["items"]] == ["com.hto.tryon"]
    [offered] = await client.list_v2("offerings", {"expand": "items.package.product"})
    [pkg] = offered["packages"]["items"]
    assert (pkg["lookup_key"], pkg["products"]["items"][0]["product"]["id"]) == ("$rc_monthly", product["id"])


async def test_product_edited_in_the_sandbox_shows_the_drift(sandbox: str, http: httpx.AsyncClient) -> None:
    client = _client(http, sandbox)
    product = await client.post_v2(
        "products", {"store_identifier": "com.hto.drift", "type": "subscription", "display_name": "Ours"}
    )
    await http.patch(f"{sandbox}/control/products/com.hto.drift", json={"display_name": "Edited by hand"})
    assert (await client.get_v2(f"products/{product['id']}"))["display_name"] == "Edited by hand"


async def test_sandbox_v2_answers_404_for_another_project(sandbox: str, http: httpx.AsyncClient) -> None:
    response = await http.get(
        f"{sandbox}/v2/projects/proj_someone_else/products", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert response.status_code == 404
    assert response.json()["type"] == "resource_missing"
