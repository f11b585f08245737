"""Gateway API keys: scopes, user tokens, revocation, hashing at rest, per-key rate limits."""

import time

import httpx
from sqlalchemy import text

from shared.security.api_keys import Scope
from shared.security.rate_limit import WINDOW_S
from tests.conftest import Stack
from tests.infra.security import billing_cli, create_key


def client_with(stack: Stack, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.gateway_url, headers={"X-API-Key": key}, timeout=30)


async def test_key_with_the_scope_reads_packs(stack: Stack) -> None:
    issued = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}))
    async with client_with(stack, issued.key.reveal()) as client:
        assert (await client.get("/v1/packs")).status_code == 200


async def test_bearer_authorization_header_is_accepted_too(stack: Stack) -> None:
    issued = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}))
    headers = {"Authorization": f"Bearer {issued.key.reveal()}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers) as client:
        assert (await client.get("/v1/packs")).status_code == 200


async def test_unknown_key_is_401(stack: Stack) -> None:
    async with client_with(stack, "bk_000000000000_not-a-real-key") as client:
        response = await client.get("/v1/packs")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


async def test_key_revoked_with_the_cli_is_refused_at_once(stack: Stack) -> None:
    issued = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}))
    revoked = billing_cli(stack.settings, "apikeys", "revoke", issued.prefix)
    assert revoked.returncode == 0, revoked.stderr
    async with client_with(stack, issued.key.reveal()) as client:
        assert (await client.get("/v1/packs")).status_code == 401


async def test_key_created_with_the_cli_works_and_is_listed_without_its_secret(stack: Stack) -> None:
    created = billing_cli(stack.settings, "apikeys", "create", "--name", "cli key", "--scope", "packs:read")
    assert created.returncode == 0, created.stderr
    key = created.stdout.split("key (shown once): ")[1].strip()
    async with client_with(stack, key) as client:
        assert (await client.get("/v1/packs")).status_code == 200
    listing = billing_cli(stack.settings, "apikeys", "list")
    assert "cli key" in listing.stdout and key not in listing.stdout


async def test_keys_are_stored_only_as_hashes(stack: Stack) -> None:
    issued = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}))
    async with stack.sessions() as session:
        rows = await session.execute(
            text("SELECT count(*) FROM api_keys WHERE CAST(to_jsonb(api_keys) AS text) LIKE :k"),
            {"k": f"%{issued.key.reveal()}%"},
        )
    assert rows.scalar_one() == 0


async def test_user_token_reads_its_own_user(stack: Stack, http: httpx.AsyncClient, user_id: str) -> None:
    minted = await http.post(f"{stack.gateway_url}/v1/users/{user_id}/tokens", json={"ttlSeconds": 600})
    assert minted.status_code == 201
    async with client_with(stack, minted.json()["token"]) as client:
        assert (await client.get(f"/v1/users/{user_id}/entitlements")).status_code == 200


async def test_user_token_cannot_read_another_user(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    minted = await http.post(f"{stack.gateway_url}/v1/users/{user_id}/tokens", json={})
    async with client_with(stack, minted.json()["token"]) as client:
        response = await client.get(f"/v1/users/{user_id}-other/entitlements")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")


async def test_user_token_cannot_start_a_checkout(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    minted = await http.post(f"{stack.gateway_url}/v1/users/{user_id}/tokens", json={})
    async with client_with(stack, minted.json()["token"]) as client:
        response = await client.post(
            "/v1/checkout", json={"userId": user_id, "packSlug": "x", "provider": "revenuecat"}
        )
    assert response.status_code == 403


async def test_key_over_its_rate_limit_gets_429_with_retry_after(stack: Stack) -> None:
    # Windows are whole minutes: calls that straddle a boundary start over with a fresh key.
    for _ in range(2):
        window = int(time.time() // WINDOW_S)
        issued = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}), rate_limit_per_minute=3)
        async with client_with(stack, issued.key.reveal()) as client:
            statuses = [(await client.get("/v1/packs")).status_code for _ in range(4)]
            limited = (await client.get("/v1/packs")) if statuses[-1] == 429 else None
        if int(time.time() // WINDOW_S) == window:
            break
    assert statuses == [200, 200, 200, 429]
    assert limited is not None and 1 <= int(limited.headers["Retry-After"]) <= WINDOW_S


async def test_rate_limit_is_per_key(stack: Stack) -> None:
    limited = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}), rate_limit_per_minute=1)
    other = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}), rate_limit_per_minute=1)
    async with (
        client_with(stack, limited.key.reveal()) as first,
        client_with(stack, other.key.reveal()) as second,
    ):
        await first.get("/v1/packs")
        await first.get("/v1/packs")
        assert (await second.get("/v1/packs")).status_code == 200
