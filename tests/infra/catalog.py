"""Catalog test helpers: apply catalogs, publish entitlement updates, run extra service processes."""

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import yaml
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from apps.stack.processes import REPO_ROOT, free_port, settings_env
from shared.catalog.file import parse_catalog
from shared.db.catalog_changes import PackChange
from shared.db.catalog_models import CatalogSyncReport
from shared.db.catalog_write import write_wanted_packs
from shared.domain.entitlements import EntitlementUpdate
from shared.settings import Settings
from tests.conftest import Stack


def btc_bundle_catalog(suffix: str, *, monthly: bool = False) -> str:
    """A Lightning bundle ``studio-<suffix>`` of two packs priced in BTC (msat), so its price is exact:
    12,000 + 9,000 sats. ``monthly`` makes the bundle a monthly subscription."""
    subscription = "\n    billing_kind: subscription\n    billing_period: P1M" if monthly else ""
    return f"""
catalog: btc-bundles-{suffix}
packs:
  - slug: scan-{suffix}
    display_name: Room Scan
    features: [room.scan]
    price: 100
    providers: {{lightning: {{product_id: ln.scan.{suffix}, price: 12000000, currency: BTC}}}}
  - slug: light-{suffix}
    display_name: Lighting Preview
    features: [room.lighting_preview]
    price: 100
    providers: {{lightning: {{product_id: ln.light.{suffix}, price: 9000000, currency: BTC}}}}
  - slug: studio-{suffix}
    display_name: Studio
    bundle: [scan-{suffix}, light-{suffix}]{subscription}
    providers: {{lightning: {{product_id: ln.studio.{suffix}}}}}
"""


def unique_suffix() -> str:
    return uuid.uuid4().hex[:8]


async def apply_catalog(stack: Stack, text: str) -> list[PackChange]:
    """Apply a catalog file's text in-process (the CLI's write path, without the subprocess)."""
    catalog, _ = parse_catalog(text)
    async with stack.sessions() as session, session.begin():
        return await write_wanted_packs(
            session,
            {pack.slug: pack for pack in catalog.packs},
            changes_topic=stack.topics.catalog_changes,
            catalog_name=catalog.catalog,
            dropped_by_catalog=True,
        )


async def wait_for_change_sync(
    stack: Stack, since: datetime, timeout_s: float = 90
) -> list[CatalogSyncReport]:
    """Wait until the stack's catalog-sync finished a change-triggered run that started after ``since``
    (one report per provider); until the next change it leaves the providers' catalogs alone."""
    providers = {"revenuecat", "lightning"}
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        async with stack.sessions() as session:
            reports = list(
                (
                    await session.execute(
                        select(CatalogSyncReport).where(
                            CatalogSyncReport.trigger == "change", CatalogSyncReport.started_at >= since
                        )
                    )
                ).scalars()
            )
        if providers <= {r.provider for r in reports}:
            return reports
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no change-triggered sync of every provider within {timeout_s}s")
        await asyncio.sleep(0.2)


def run_billing_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apps.cli.main", *args],
        env=settings_env(stack.settings),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_catalog_file(directory: Path, document: dict[str, object]) -> Path:
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


async def publish_update(stack: Stack, update: EntitlementUpdate) -> None:
    """Put an update on the updates topic, as webhook_ingest does after normalizing a webhook."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            stack.topics.entitlement_updates,
            value=update.model_dump_json().encode(),
            key=update.user_id.encode(),
        )
    finally:
        await producer.stop()


@contextmanager
def extra_service(stack: Stack, service: str, log_name: str, **overrides: object) -> Iterator[Settings]:
    """Run one more ``billing serve <service>`` against the session's stores, with settings overrides."""
    settings = stack.settings.with_values(**{"gateway_port": free_port(), **overrides})
    log_dir = REPO_ROOT / ".local" / "test-logs" / stack.settings.namespace.strip(".").removeprefix("test-")
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{log_name}.log").open("wb") as log_file:
        child = subprocess.Popen(
            [sys.executable, "-m", "apps.cli.main", "serve", service],
            env=settings_env(settings),
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            yield settings
        finally:
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
