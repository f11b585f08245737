"""``billing revenuecat ...``: drive the local RevenueCat sandbox by hand; how ``billing up`` runs it.

``billing up`` starts the sandbox on ``BILLING_REVENUECAT_SANDBOX_PORT`` and points the adapter at it
(unless ``BILLING_REVENUECAT_API_BASE_URL`` is set, e.g. to the real API). ``billing revenuecat
purchase alice virtual-try-on`` then buys a pack the way a customer would and waits for the entitlement.
"""

import asyncio
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import typer

from shared.connectors.revenuecat.pack_mapping import listing_for_pack
from shared.connectors.revenuecat.users import app_user_id_for
from shared.db.catalog import find_pack_by_slug
from shared.db.engine import command_session
from shared.db.entitlements import list_user_entitlements
from shared.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[3]
SANDBOX_API_KEY_FILE = REPO_ROOT / ".local" / "revenuecat-sandbox-api-key"
LOCAL_PROJECT_ID = "proj_local"
# One RevenueCat "minute" of the webhook retry schedule is a second locally (retries after 5..80 s).
LOCAL_RETRY_UNIT_MS = 1000

revenuecat_app = typer.Typer(help="The local RevenueCat sandbox: simulate purchases and other events.")


def _sandbox_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.revenuecat.sandbox_port}"


def _local_api_key() -> str:
    """A random secret key the sandbox accepts on this machine, kept out of the repo."""
    if not SANDBOX_API_KEY_FILE.exists():
        SANDBOX_API_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        SANDBOX_API_KEY_FILE.write_text(f"sk_local_{secrets.token_urlsafe(24)}")
        SANDBOX_API_KEY_FILE.chmod(0o600)
    return SANDBOX_API_KEY_FILE.read_text().strip()


def sandbox_environment(env: dict[str, str], settings: Settings) -> dict[str, str]:
    """Point the stack at the sandbox unless a RevenueCat base URL was chosen explicitly."""
    if not settings.revenuecat.sandbox_port or "BILLING_REVENUECAT_API_BASE_URL" in env:
        return env
    url = _sandbox_url(settings)
    return env | {
        "BILLING_REVENUECAT_API_BASE_URL": url,
        "BILLING_REVENUECAT_API_KEY": env.get("BILLING_REVENUECAT_API_KEY") or _local_api_key(),
        "BILLING_REVENUECAT_PROJECT_ID": env.get("BILLING_REVENUECAT_PROJECT_ID") or LOCAL_PROJECT_ID,
        "BILLING_REVENUECAT_WEB_PURCHASE_BASE_URL": f"{url}/pay",
        # The hosted paywall's button completes purchases in the sandbox (services/marketplace/).
        "BILLING_MARKETPLACE_REVENUECAT_SANDBOX_URL": url,
    }


def sandbox_command(env: dict[str, str], settings: Settings) -> list[str] | None:
    """argv of the sandbox for ``billing up`` (secrets reach it through ``env``), or None when not used."""
    if env.get("BILLING_REVENUECAT_API_BASE_URL") != _sandbox_url(settings):
        return None
    return [
        sys.executable,
        "-m",
        "sandboxes.revenuecat",
        "--port",
        str(settings.revenuecat.sandbox_port),
        "--webhook-url",
        f"http://127.0.0.1:{settings.gateway_port}/v1/webhooks/revenuecat",
        "--project-id",
        env["BILLING_REVENUECAT_PROJECT_ID"],
        "--retry-unit-ms",
        str(LOCAL_RETRY_UNIT_MS),
    ]


async def _product_of(settings: Settings, pack_slug: str) -> tuple[str, str]:
    """The pack's RevenueCat product id and billing kind, from our catalog."""
    async with command_session(settings.database_url) as session:
        pack = await find_pack_by_slug(session, pack_slug)
        listing = await listing_for_pack(session, pack.id) if pack else None
    if pack is None or listing is None:
        raise typer.BadParameter(f"no pack {pack_slug!r} sold on RevenueCat", param_hint="PACK_SLUG")
    return listing.product_id, pack.billing_kind


def _simulate(settings: Settings, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{_sandbox_url(settings)}/control/simulate/{kind}", json=body, timeout=10)
    if response.status_code != 200:
        raise typer.BadParameter(f"sandbox refused {kind}: {response.text}")
    event: dict[str, Any] = response.json()["event"]
    return event


async def _entitlement_of(settings: Settings, user_id: str, pack_slug: str) -> dict[str, Any] | None:
    async with command_session(settings.database_url) as session:
        entitlements = await list_user_entitlements(session, user_id)
    return next((e for e in entitlements if e["pack_slug"] == pack_slug), None)


def _wait_for_entitlement(settings: Settings, user_id: str, pack_slug: str, timeout_s: float = 30) -> None:
    """Poll our ledger (the gateway's read side, without needing an API key) until the pack shows up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = asyncio.run(_entitlement_of(settings, user_id, pack_slug))
        if found is not None:
            typer.echo(json.dumps(found, indent=2))
            return
        time.sleep(0.3)
    typer.echo(f"no entitlement for {pack_slug} after {timeout_s:.0f}s; see `billing dlq list`", err=True)
    raise typer.Exit(1)


@revenuecat_app.command()
def purchase(user_id: str, pack_slug: str, wait: bool = True) -> None:
    """Buy PACK_SLUG as USER_ID in the sandbox (webhook → gateway → entitlement); show the entitlement."""
    settings = get_settings()
    product_id, billing_kind = asyncio.run(_product_of(settings, pack_slug))
    kind = "purchase" if billing_kind == "subscription" else "non-renewing-purchase"
    event = _simulate(settings, kind, {"app_user_id": app_user_id_for(user_id), "product_id": product_id})
    typer.echo(f"{event['type']} {event['id']} sent for {app_user_id_for(user_id)} ({product_id})")
    if wait:
        _wait_for_entitlement(settings, user_id, pack_slug)


@revenuecat_app.command()
def simulate(kind: str, user_id: str, pack_slug: str, fields: str = "{}") -> None:
    """Any simulation (renewal, cancellation, expiration, refund, ...) of USER_ID's PACK_SLUG purchase.

    ``--fields '{"reason": "BILLING_ERROR"}'`` adds the simulation's own fields.
    """
    settings = get_settings()
    product_id, _ = asyncio.run(_product_of(settings, pack_slug))
    body = {"app_user_id": app_user_id_for(user_id), "product_id": product_id, **json.loads(fields)}
    event = _simulate(settings, kind, body)
    typer.echo(json.dumps(event, indent=2))
