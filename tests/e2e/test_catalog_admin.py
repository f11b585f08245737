"""The catalog admin API: key-protected create/update/deactivate, checked like a catalog file."""

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from apps.stack.processes import wait_for_http
from shared.security.api_keys import Scope, create_api_key
from tests.conftest import Stack
from tests.infra.catalog import extra_service, unique_suffix

ADMIN_KEY = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
async def admin_url(stack: Stack) -> AsyncIterator[str]:
    """A second gateway on the session's stores, with the admin API key configured."""
    with extra_service(stack, "gateway", "gateway-admin", admin_api_key=SecretStr(ADMIN_KEY)) as settings:
        url = f"http://127.0.0.1:{settings.gateway_port}"
        await wait_for_http(f"{url}/healthz")
        yield url


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
async def anonymous() -> AsyncIterator[httpx.AsyncClient]:
    """A client carrying no API key of its own (the session's default client carries a full-scope one)."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def _pack(slug: str, **fields: Any) -> dict[str, Any]:
    return {"slug": slug, "display_name": slug.title(), "features": [f"{slug}.use"], "price": 300, **fields}


async def test_admin_api_refuses_a_request_without_the_key(
    admin_url: str, anonymous: httpx.AsyncClient
) -> None:
    response = await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(f"nokey-{unique_suffix()}"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_admin_api_refuses_a_wrong_key(admin_url: str, anonymous: httpx.AsyncClient) -> None:
    wrong_last = "x" if ADMIN_KEY[-1] != "x" else "y"  # never the key itself (a random last char could be x)
    headers = {"Authorization": f"Bearer {ADMIN_KEY[:-1]}{wrong_last}"}
    body = _pack(f"wrong-{unique_suffix()}")
    response = await anonymous.post(f"{admin_url}/v1/admin/packs", json=body, headers=headers)
    assert response.status_code == 401


async def test_api_key_without_the_admin_scope_is_refused(
    stack: Stack, admin_url: str, anonymous: httpx.AsyncClient
) -> None:
    async with stack.sessions() as session, session.begin():
        issued = await create_api_key(
            session, name="reader", scopes=frozenset({Scope.PACKS_READ}), created_by="test:catalog-admin"
        )
    headers = {"X-API-Key": issued.key.reveal()}
    response = await anonymous.post(
        f"{admin_url}/v1/admin/packs", json=_pack(f"ro-{unique_suffix()}"), headers=headers
    )
    assert response.status_code == 403


async def test_created_pack_is_listed_and_announced(
    stack: Stack, admin_url: str, http: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    slug = f"created-{unique_suffix()}"
    response = await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(slug), headers=_admin())
    assert response.status_code == 201
    assert response.json()["pack"]["slug"] == slug
    listed = (await http.get(f"{stack.gateway_url}/v1/packs")).json()["packs"]
    assert slug in [p["slug"] for p in listed]
    event = await stack.published.wait_for(stack.topics.catalog_changes, lambda r: r.key == slug.encode())
    assert event.json()["type"] == "catalog.pack.created"


async def test_creating_an_existing_slug_is_a_conflict(admin_url: str, anonymous: httpx.AsyncClient) -> None:
    slug = f"twice-{unique_suffix()}"
    await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(slug), headers=_admin())
    response = await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(slug), headers=_admin())
    assert response.status_code == 409


async def test_update_changes_only_what_differs(admin_url: str, anonymous: httpx.AsyncClient) -> None:
    slug = f"updated-{unique_suffix()}"
    await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(slug), headers=_admin())
    response = await anonymous.put(
        f"{admin_url}/v1/admin/packs/{slug}", json=_pack(slug, price=350), headers=_admin()
    )
    assert response.status_code == 200
    assert response.json()["changes"] == [{"slug": slug, "change": "updated", "fields": ["default_price"]}]
    again = await anonymous.put(
        f"{admin_url}/v1/admin/packs/{slug}", json=_pack(slug, price=350), headers=_admin()
    )
    assert again.json()["changes"] == []


async def test_invalid_pack_is_a_400_naming_the_field(admin_url: str, anonymous: httpx.AsyncClient) -> None:
    body = _pack(f"bad-{unique_suffix()}", visuals={"color": "purple"})
    response = await anonymous.post(f"{admin_url}/v1/admin/packs", json=body, headers=_admin())
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "visuals.color"


async def test_deactivated_pack_leaves_the_list(
    stack: Stack, admin_url: str, http: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    slug = f"retired-{unique_suffix()}"
    await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(slug), headers=_admin())
    response = await anonymous.post(f"{admin_url}/v1/admin/packs/{slug}/deactivate", headers=_admin())
    assert response.status_code == 200
    assert response.json()["pack"]["active"] is False
    listed = (await http.get(f"{stack.gateway_url}/v1/packs")).json()["packs"]
    assert slug not in [p["slug"] for p in listed]


async def test_deactivating_a_child_of_an_active_bundle_is_refused(
    admin_url: str, anonymous: httpx.AsyncClient
) -> None:
    suffix = unique_suffix()
    for slug in (f"left-{suffix}", f"right-{suffix}"):
        await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(slug), headers=_admin())
    bundle = {
        "slug": f"pair-{suffix}",
        "display_name": "Pair",
        "bundle": [f"left-{suffix}", f"right-{suffix}"],
    }
    assert (
        await anonymous.post(f"{admin_url}/v1/admin/packs", json=bundle, headers=_admin())
    ).status_code == 201

    response = await anonymous.post(f"{admin_url}/v1/admin/packs/left-{suffix}/deactivate", headers=_admin())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == f"pair-{suffix}:bundle[0]"
    assert "inactive" in error["message"]


async def test_bundle_cycle_through_the_admin_api_is_refused(
    admin_url: str, anonymous: httpx.AsyncClient
) -> None:
    suffix = unique_suffix()
    for slug in (f"a-{suffix}", f"b-{suffix}"):
        await anonymous.post(f"{admin_url}/v1/admin/packs", json=_pack(slug), headers=_admin())
    inner = {"slug": f"inner-{suffix}", "display_name": "Inner", "bundle": [f"a-{suffix}", f"b-{suffix}"]}
    outer = {"slug": f"outer-{suffix}", "display_name": "Outer", "bundle": [f"inner-{suffix}", f"a-{suffix}"]}
    await anonymous.post(f"{admin_url}/v1/admin/packs", json=inner, headers=_admin())
    await anonymous.post(f"{admin_url}/v1/admin/packs", json=outer, headers=_admin())

    looped = {**inner, "bundle": [f"outer-{suffix}", f"b-{suffix}"]}
    response = await anonymous.put(
        f"{admin_url}/v1/admin/packs/inner-{suffix}", json=looped, headers=_admin()
    )
    assert response.status_code == 422
    assert "cycle" in response.json()["error"]["message"]
