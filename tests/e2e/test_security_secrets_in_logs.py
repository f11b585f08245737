"""No secret ever shows up in our services' logs (``.local/test-logs/<run>/``): provider secrets,
signing keys, rotated values, API keys and user tokens, whole or in their telling parts."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr

from apps.stack.processes import REPO_ROOT
from shared.core_settings import flat_settings
from tests.conftest import Stack

SERVICE_LOGS = ("gateway.log", "ingest.log", "worker.log", "catalog-sync.log", "gateway-vault.log")
MIN_LENGTH = 12  # shorter strings would match by chance


def telling_parts(value: str) -> set[str]:
    """The value and the parts that are secret on their own (token after "Bearer", key after "whsec_")."""
    parts = {value, value.removeprefix("Bearer "), value.removeprefix("whsec_")}
    if value.startswith("nostr+walletconnect://"):
        parts |= set(parse_qs(urlsplit(value).query).get("secret", []))
    return {p for p in parts if len(p) >= MIN_LENGTH}


def session_secrets(stack: Stack) -> set[str]:
    found: set[str] = set()
    for value in flat_settings(stack.settings).values():
        if isinstance(value, SecretStr) and value.get_secret_value():
            found |= telling_parts(value.get_secret_value())
    for stored in Path(stack.settings.secrets_dir).glob("*.json"):
        record = json.loads(stored.read_text())
        for key in ("current", "previous"):
            if record.get(key):
                found |= telling_parts(record[key])
    return found


async def exercise_secret_paths(stack: Stack, http: httpx.AsyncClient, user_id: str) -> set[str]:
    """Requests that touch every secret path, right and wrong; returns the credentials they minted."""
    authorization = stack.settings.revenuecat.webhook_authorization.get_secret_value()
    webhook = f"{stack.gateway_url}/v1/webhooks/revenuecat"
    await http.post(webhook, json={"api_version": "1.0"}, headers={"Authorization": authorization})
    await http.post(webhook, json={"api_version": "1.0"}, headers={"Authorization": authorization + "x"})
    token = (await http.post(f"{stack.gateway_url}/v1/users/{user_id}/tokens", json={})).json()["token"]
    async with httpx.AsyncClient(headers={"X-API-Key": token + "x"}) as wrong:
        await wrong.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    await http.get(f"{stack.gateway_url}/v1/packs")
    return {token}


async def test_no_secret_appears_in_any_service_log(
    stack: Stack, http: httpx.AsyncClient, api_key: str, run_id: str, user_id: str
) -> None:
    minted = await exercise_secret_paths(stack, http, user_id)
    secrets = session_secrets(stack) | minted | {api_key}
    logs = [REPO_ROOT / ".local" / "test-logs" / run_id / name for name in SERVICE_LOGS]
    present = [log for log in logs if log.exists()]
    assert {log.name for log in present} >= {"gateway.log", "ingest.log", "worker.log"}
    leaks = [(log.name, s[:6] + "…") for log in present for s in secrets if s.encode() in log.read_bytes()]
    assert len(secrets) >= 8 and leaks == []
