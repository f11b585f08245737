"""docs/adding-a-provider.md, proved: a provider that lives only in the tests (tests/infra/toy_provider/)
is registered into the services and the CLI by ``BILLING_EXTRA_PROVIDERS``, takes a webhook end to end —
``POST /v1/webhooks/toy`` → ingest → worker → an entitlement CloudEvent.

Its gateway, ingest and worker are processes of this test (own database, own topics), and so is
the seed of its pack: only they know ``toy``; the session's stack and this process do not.
"""

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from secrets import token_urlsafe

import httpx
import pytest

from apps.stack.processes import REPO_ROOT, free_port, settings_env, wait_for_http
from shared.domain.provider import Provider
from shared.messaging.topics import Topics, ensure_topics
from shared.security.secret_stores import EnvFileSecretStore
from shared.security.secret_values import SecretValue, SecretVersions
from shared.settings import Settings
from tests.conftest import Stack
from tests.infra.catalog import extra_service
from tests.infra.own_database import database_url, own_database
from tests.infra.topic_collector import TopicCollector
from tests.infra.toy_provider.delivery import SECRET_NAME, SIGNATURE_HEADER, ToyEvent, signature

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
JSON = {"Content-Type": "application/json"}


async def test_a_provider_registered_from_the_tests_turns_its_webhook_into_entitlement_events(
    stack: Stack, run_id: str, user_id: str
) -> None:
    suffix = uuid.uuid4().hex[:6]
    async with own_database(run_id) as database:
        namespace = f"{stack.settings.namespace}toy-{suffix}."
        toy = {
            "namespace": namespace,
            "database_url": database_url(database),
            "secrets_dir": str(REPO_ROOT / ".local" / "test-secrets" / f"{run_id}-toy-{suffix}"),
            "extra_providers": "tests.infra.toy_provider.provider",
        }
        settings = stack.settings.with_values(**toy)
        await ensure_topics(settings)
        secret = token_urlsafe(32)
        await EnvFileSecretStore(settings).write(SecretVersions(SECRET_NAME, SecretValue(secret)))
        product, pack_id = f"toy.pack.{suffix}", uuid.uuid4()
        seed = [sys.executable, "-m", "tests.infra.toy_provider.seed", settings.database_url]
        seeded = await asyncio.to_thread(
            subprocess.run, [*seed, f"toy-pack-{suffix}", product, str(pack_id)], cwd=REPO_ROOT, check=False
        )
        assert seeded.returncode == 0
        entitlements = Topics(namespace).entitlements
        collector = TopicCollector(settings.kafka_bootstrap, [entitlements])
        await collector.start()
        gateway_port = free_port()
        webhook_url = f"http://127.0.0.1:{gateway_port}/v1/webhooks/toy"
        bought_at = datetime.now(UTC) - timedelta(minutes=1)
        purchase = ToyEvent(
            id=f"evt-{suffix}-1",
            type="purchase",
            user_id=user_id,
            product_id=product,
            purchase_id=f"purchase-{suffix}",
            occurred_at=bought_at,
        )
        refund = purchase.model_copy(
            update={
                "id": f"evt-{suffix}-2",
                "type": "refund",
                "occurred_at": bought_at + timedelta(seconds=30),
            }
        )
        try:
            with (
                extra_service(stack, "gateway", f"{namespace}gateway", gateway_port=gateway_port, **toy),
                extra_service(stack, "ingest", f"{namespace}ingest", **toy),
                extra_service(stack, "worker", f"{namespace}worker", **toy),
            ):
                await wait_for_http(f"http://127.0.0.1:{gateway_port}/healthz", timeout_s=120)
                async with httpx.AsyncClient(timeout=30) as http:
                    body = purchase.model_dump_json().encode()
                    forged = await http.post(
                        webhook_url, content=body, headers={**JSON, SIGNATURE_HEADER: "sha256=0"}
                    )
                    assert forged.status_code == 401, forged.text
                    assert forged.json()["error"]["code"] == "unauthorized"

                    signed = {**JSON, SIGNATURE_HEADER: signature(secret, body)}
                    accepted = await http.post(webhook_url, content=body, headers=signed)
                    assert accepted.status_code == 200, accepted.text
                    assert accepted.json() == {"status": "accepted", "event_id": purchase.id}
                    activated = await collector.wait_for(
                        entitlements, lambda r: r.json()["subject"] == user_id, timeout_s=90
                    )
                    # The refund is signed by the plugin's own CLI subcommand, `billing toy sign`.
                    body = refund.model_dump_json().encode()
                    header = await _signed_by_the_toy_cli(settings, body)
                    assert header == f"{SIGNATURE_HEADER}: {signature(secret, body)}"
                    name, value = header.split(": ", 1)
                    refunded = await http.post(webhook_url, content=body, headers={**JSON, name: value})
                    assert refunded.status_code == 200, refunded.text
                    revoked = await collector.wait_for(
                        entitlements,
                        lambda r: (
                            r.json()["subject"] == user_id and r.json()["type"] == "entitlement.revoked"
                        ),
                        timeout_s=90,
                    )
        finally:
            await collector.stop()
    assert activated.json()["type"] == "entitlement.activated"
    data = activated.json()["data"]
    assert (data["provider"], data["packId"], data["reference"]) == (
        "toy",
        str(pack_id),
        purchase.purchase_id,
    )
    assert revoked.json()["data"]["provider"] == "toy"
    assert "toy" not in {provider.value for provider in Provider}  # only the toy's processes know it


async def _signed_by_the_toy_cli(settings: Settings, body: bytes) -> str:
    signed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "apps.cli.main", "toy", "sign"],
        input=body,
        env=settings_env(settings),
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    assert signed.returncode == 0, signed.stderr.decode()
    return signed.stdout.decode().strip()
