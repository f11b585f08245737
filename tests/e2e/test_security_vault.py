"""The Vault back end (hvac, KV v2, AppRole) against the Vault sandbox, and a gateway reading its
webhook secret and acknowledgement key from it. What a real Vault would add is in docs/security.md."""

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook

from apps.stack.processes import REPO_ROOT, free_port, settings_env, wait_for_http
from shared.connectors.registry import secret_specs
from shared.security.secret_names import standard_webhooks_key
from shared.security.secret_stores import SecretConflictError
from shared.security.secret_values import SecretValue, SecretVersions
from shared.security.secrets import Matched, SecretProvider
from shared.security.vault_store import VaultSecretStore, VaultUnavailableError
from shared.settings import Settings
from tests.conftest import Stack
from tests.infra.security import billing_cli
from tests.infra.vault import VaultSandbox, running_vault

NAME = "revenuecat_webhook_authorization"


@pytest.fixture(scope="module")
def vault(run_id: str) -> Iterator[VaultSandbox]:
    with running_vault(REPO_ROOT / ".local" / "test-logs" / run_id) as sandbox:
        yield sandbox


@pytest.fixture
async def vault_settings(vault: VaultSandbox) -> Settings:
    await wait_for_http(f"{vault.url}/healthz")
    prefix = f"billing-{uuid.uuid4().hex[:8]}"
    role_id, secret_id = await vault.approle(f"role-{prefix}", prefix)
    return Settings(
        secret_backend="vault",
        vault_url=vault.url,
        vault_role_id=role_id,
        vault_secret_id=secret_id,  # type: ignore[arg-type]
        vault_path_prefix=prefix,
    )


def provider(settings: Settings) -> SecretProvider:
    return SecretProvider(VaultSecretStore(settings), secret_specs(), 30.0, 3600)


async def test_rotation_is_stored_as_one_kv_v2_secret_with_both_values(
    vault: VaultSandbox, vault_settings: Settings
) -> None:
    secrets = provider(vault_settings)
    await secrets.rotate(NAME, "Bearer first")
    await secrets.rotate(NAME, "Bearer second")
    stored = await vault.read(f"{vault_settings.vault_path_prefix}/{NAME}")
    assert (stored["data"]["current"], stored["data"]["previous"], stored["metadata"]["version"]) == (  # type: ignore[index]
        "Bearer second",
        "Bearer first",
        2,
    )


async def test_previous_vault_value_verifies_during_the_window(vault_settings: Settings) -> None:
    secrets = provider(vault_settings)
    await secrets.rotate(NAME, "Bearer first")
    await secrets.rotate(NAME, "Bearer second")
    assert await secrets.verify(NAME, lambda s: s.equals("Bearer first")) is Matched.PREVIOUS


async def test_expired_approle_token_leads_to_one_fresh_login(
    vault: VaultSandbox, vault_settings: Settings
) -> None:
    store = VaultSecretStore(vault_settings)
    await store.write(SecretVersions(NAME, SecretValue("Bearer x")))
    before = await vault.expire_tokens()
    assert (await store.read(NAME)) is not None
    after = await vault.expire_tokens()
    assert before["expired"] >= 1 and after["logins"] - before["logins"] == 1


async def test_concurrent_rotations_cannot_both_win(vault_settings: Settings) -> None:
    store = VaultSecretStore(vault_settings)
    read = await store.write(SecretVersions(NAME, SecretValue("Bearer base")))
    await store.write(SecretVersions(NAME, SecretValue("Bearer mine"), version=read.version))
    with pytest.raises(SecretConflictError):
        await store.write(SecretVersions(NAME, SecretValue("Bearer theirs"), version=read.version))


async def test_wrong_secret_id_fails_without_showing_it(vault_settings: Settings) -> None:
    wrong = f"wrong-{uuid.uuid4()}"
    store = VaultSecretStore(vault_settings.with_values(**{"vault_secret_id": SecretStr(wrong)}))
    with pytest.raises(VaultUnavailableError) as refused:
        await store.read(NAME)
    assert "invalid role or secret ID" in str(refused.value) and wrong not in str(refused.value)


async def test_token_auth_reads_what_approle_wrote(vault: VaultSandbox, vault_settings: Settings) -> None:
    await VaultSecretStore(vault_settings).write(SecretVersions(NAME, SecretValue("Bearer via-approle")))
    with_token = vault_settings.with_values(vault_role_id="", vault_token=SecretStr(vault.root_token))
    read = await VaultSecretStore(with_token).read(NAME)
    assert read is not None and read.current.equals("Bearer via-approle")


@pytest.fixture
async def vault_gateway(
    stack: Stack, run_id: str, vault: VaultSandbox, vault_settings: Settings
) -> AsyncIterator[tuple[str, Settings]]:
    """A second gateway on the session's stack whose secrets all come from Vault."""
    prefix = vault_settings.vault_path_prefix
    await vault.write(f"{prefix}/{NAME}", {"current": f"Bearer vault-{uuid.uuid4().hex}"})
    await vault.write(f"{prefix}/ack_signing_secret", {"current": standard_webhooks_key()})
    settings = stack.settings.with_values(
        **{
            "gateway_port": free_port(),
            "secret_backend": "vault",
            "vault_url": vault.url,
            "vault_role_id": vault_settings.vault_role_id,
            "vault_secret_id": vault_settings.vault_secret_id,
            "vault_path_prefix": prefix,
            # Not read in this mode: prove it by leaving a wrong value here.
            "revenuecat_webhook_authorization": "Bearer env-value-is-ignored",
        }
    )
    log = (REPO_ROOT / ".local" / "test-logs" / run_id / "gateway-vault.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *["-m", "apps.cli.main", "serve", "gateway"],
        env=settings_env(settings),
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{settings.gateway_port}"
        await wait_for_http(f"{url}/healthz")
        yield url, settings
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
        log.close()


async def post_test_event(url: str, authorization: str) -> httpx.Response:
    event = {"id": f"evt-v-{uuid.uuid4().hex}", "type": "TEST", "event_timestamp_ms": int(time.time() * 1000)}
    body = orjson.dumps({"api_version": "1.0", "event": event})
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{url}/v1/webhooks/revenuecat",
            content=body,
            headers={"Authorization": authorization, "Content-Type": "application/json"},
        )


async def test_gateway_verifies_webhooks_and_signs_acks_with_vault_secrets(
    vault: VaultSandbox, vault_gateway: tuple[str, Settings]
) -> None:
    url, settings = vault_gateway
    stored = await vault.read(f"{settings.vault_path_prefix}/{NAME}")
    accepted = await post_test_event(url, stored["data"]["current"])  # type: ignore[index]
    assert accepted.status_code == 200
    ack = await vault.read(f"{settings.vault_path_prefix}/ack_signing_secret")
    Webhook(ack["data"]["current"]).verify(accepted.content, dict(accepted.headers))  # type: ignore[index]
    assert (await post_test_event(url, "Bearer env-value-is-ignored")).status_code == 401


async def test_cli_rotation_in_vault_is_accepted_by_the_running_gateway(
    vault: VaultSandbox, vault_gateway: tuple[str, Settings]
) -> None:
    url, settings = vault_gateway
    old = (await vault.read(f"{settings.vault_path_prefix}/{NAME}"))["data"]["current"]  # type: ignore[index]
    new = f"Bearer rotated-in-vault-{uuid.uuid4().hex}"
    rotated = billing_cli(settings, "secrets", "rotate", NAME, "--value-stdin", stdin=new + "\n")
    assert rotated.returncode == 0, rotated.stderr
    assert (await post_test_event(url, new)).status_code == 200
    assert (await post_test_event(url, old)).status_code == 200  # previous, inside the window
