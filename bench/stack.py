"""The stack a bench run measures: its own database, topic namespace and service processes.

Reuses the test session's helpers (``apps/stack/processes.py``) so a bench run is isolated exactly
like a pytest session and never touches the default deployment.
"""

import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from apps.stack.processes import (
    REPO_ROOT,
    drop_session_database,
    prepare_backing_stores,
    running_services,
    sandbox_ports,
    sandbox_settings,
    session_settings,
    settings_env,
    start_infrastructure,
    wait_for_http,
)
from apps.stack.seed import create_full_scope_key
from shared.connectors.lightning.settings import LightningSettings
from shared.db.engine import create_engine, session_factory
from shared.messaging.topics import Topics
from shared.settings import Settings

SERVICES = ["gateway", "ingest", "worker"]


@dataclass
class BenchStack:
    settings: Settings
    topics: Topics
    database: str
    gateway_url: str
    sandbox_urls: dict[str, str]
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    api_key: str
    log_dir: Path
    extra_workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def pg_dsn(self) -> str:
        return self.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")

    def start_extra_worker(self) -> None:
        """A second entitlement_worker in the same consumer group (partitions ≥ instances)."""
        log_file = (self.log_dir / f"worker-{len(self.extra_workers) + 2}.log").open("wb")
        self.extra_workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "apps.cli.main", "serve", "worker"],
                env=settings_env(self.settings),
                cwd=REPO_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        )

    def stop_extra_workers(self) -> None:
        for child in self.extra_workers:
            child.terminate()
        for child in self.extra_workers:
            child.wait(timeout=20)
        self.extra_workers.clear()


@asynccontextmanager
async def bench_stack(partitions: int) -> AsyncIterator[BenchStack]:
    """Start (or reuse) Kafka/Postgres/Redis, then our services on a fresh database and namespace."""
    start_infrastructure()
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}{uuid.uuid4().hex[:4]}"
    database = f"billing_bench_{run_id}"
    ports = sandbox_ports()
    # The test session's settings, but with the services' own polling intervals (tests shorten them).
    overrides = sandbox_settings(ports) | {
        "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:55432/{database}",
        "namespace": f"bench-{run_id}.",
        "kafka_partitions": partitions,
        "secrets_dir": str(REPO_ROOT / ".local" / "bench-secrets" / run_id),
        "log_level": "WARNING",
        "lightning_poll_interval_s": LightningSettings.model_fields["poll_interval_s"].default,
        "expiry_sweep_interval_s": Settings.model_fields["expiry_sweep_interval_s"].default,
        "secret_cache_ttl_s": Settings.model_fields["secret_cache_ttl_s"].default,
    }
    settings = session_settings(run_id, **overrides)
    await prepare_backing_stores(settings, database)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    log_dir = REPO_ROOT / ".local" / "bench-logs" / run_id
    try:
        with running_services(settings, SERVICES, ports, log_dir):
            gateway_url = f"http://127.0.0.1:{settings.gateway_port}"
            await wait_for_http(f"{gateway_url}/healthz")
            urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
            for url in urls.values():
                await wait_for_http(f"{url}/healthz")
            key = await create_full_scope_key(sessions, name="bench")
            stack = BenchStack(
                settings,
                Topics(settings.namespace),
                database,
                gateway_url,
                urls,
                engine,
                sessions,
                key,
                log_dir,
            )
            try:
                yield stack
            finally:
                stack.stop_extra_workers()
    finally:
        await engine.dispose()
        await drop_session_database(database)


def service_processes() -> dict[str, list[psutil.Process]]:
    """Our service processes (children of this process), by service name."""
    found: dict[str, list[psutil.Process]] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            argv = child.cmdline()
        except psutil.Error:
            continue
        if "serve" in argv and argv[-1] in SERVICES:
            found.setdefault(argv[-1], []).append(child)
        elif "sandboxes.revenuecat" in argv:
            found.setdefault("revenuecat-sandbox", []).append(child)
    return found
