"""Starts the real infrastructure (or reuses it) and our services as subprocesses for a test session.

Each session gets its own database and topic namespace, so parallel runs never share state.
"""

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from apps.stack.sandboxes import SANDBOXES
from shared.core_settings import flat_settings
from shared.db.migrate import upgrade_to_heads
from shared.messaging.topics import ensure_topics
from shared.security.secret_names import standard_webhooks_key
from shared.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every service the product runs (`billing serve <name>`): `billing up` and the test stacks start all.
SERVICES = ["gateway", "ingest", "worker", "catalog-sync", "telemetry"]
# The local deployment's server (deploy/local); a session's own database lives beside ``billing``.
LOCAL_DATABASE_URL: str = Settings.model_fields["database_url"].default


def admin_dsn(database_url: str = LOCAL_DATABASE_URL) -> str:
    """The maintenance database (``postgres``) of the server ``database_url`` points at, for asyncpg."""
    url = make_url(database_url).set(drivername="postgresql", database="postgres")
    return url.render_as_string(hide_password=False)


def session_database_url(database: str, server_url: str = LOCAL_DATABASE_URL) -> str:
    """``database`` on the server ``server_url`` points at."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def service_argv(service: str) -> list[str]:
    """argv (after the Python interpreter) that runs one of our services (``billing serve``)."""
    return ["-m", "apps.cli.main", "serve", service]


def start_infrastructure() -> None:
    """Start or reuse Kafka, Postgres and Redis; a failure fails the session, never skips it."""
    subprocess.run(["bash", str(REPO_ROOT / "deploy/local/start.sh")], check=True)


# Ports handed out by free_port in this process: never the same one twice.
_HANDED_OUT: set[int] = set()
_LOWEST_PORT = 20_000


def free_port() -> int:
    """A port nothing listens on, below the kernel's ephemeral range. A port from that range can be
    taken by an outgoing connection before our service binds it, or while a killed service is down
    (a client reconnecting to it can even connect to itself from that very port)."""
    ephemeral_low = _ephemeral_range_low()
    candidates = [port for port in range(_LOWEST_PORT, ephemeral_low) if port not in _HANDED_OUT]
    for port in random.sample(candidates, k=min(200, len(candidates))):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port between {_LOWEST_PORT} and {ephemeral_low}")


def _ephemeral_range_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


async def create_session_database(name: str, server_url: str = LOCAL_DATABASE_URL) -> None:
    conn = await asyncpg.connect(admin_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_session_database(name: str, server_url: str = LOCAL_DATABASE_URL) -> None:
    conn = await asyncpg.connect(admin_dsn(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def session_settings(run_id: str, **overrides: object) -> Settings:
    gateway_port = free_port()
    values: dict[str, object] = {
        "database_url": session_database_url(f"billing_test_{run_id}"),
        "namespace": f"test-{run_id}.",
        "kafka_partitions": 2,
        "gateway_port": gateway_port,
        # RevenueCat checkouts' fallback URL: the hosted paywall this session's gateway serves.
        "revenuecat_hosted_paywall_url": f"http://127.0.0.1:{gateway_port}/paywall",
        "revenuecat_webhook_authorization": f"Bearer test-{uuid.uuid4().hex}",
        "retry_initial_delay_s": 0.05,
        # Secrets rotated by tests live in the session's own folder; a short cache sees them soon.
        "secrets_dir": str(REPO_ROOT / ".local" / "test-secrets" / run_id),
        "secret_cache_ttl_s": 1.0,
        "ack_signing_secret": standard_webhooks_key(),
        "alby_webhook_secret": standard_webhooks_key(),
        "max_processing_attempts": 3,
        # Each consumer's Prometheus port: free ones, so parallel sessions never scrape each other.
        "ingest_metrics_port": free_port(),
        "worker_metrics_port": free_port(),
        "catalog_sync_metrics_port": free_port(),
        "telemetry_metrics_port": free_port(),
        "backlog_metrics_interval_s": 1.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in flat_settings(settings).items():
        if value is None:
            continue
        secret = getattr(value, "get_secret_value", None)
        env[f"BILLING_{name.upper()}"] = secret() if secret else str(value)
    return env


async def prepare_backing_stores(settings: Settings, database: str) -> None:
    await create_session_database(database, settings.database_url)
    await asyncio.to_thread(upgrade_to_heads, settings.database_url)
    await ensure_topics(settings)


def sandbox_ports() -> dict[str, int]:
    return {sandbox.name: free_port() for sandbox in SANDBOXES}


def sandbox_settings(ports: dict[str, int]) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for sandbox in SANDBOXES:
        overrides.update(sandbox.settings_for_port(ports[sandbox.name]))
    return overrides


@contextmanager
def running_services(
    settings: Settings, services: list[str], ports: dict[str, int], log_dir: Path
) -> Iterator[None]:
    """Our services (``billing serve``) and every registered sandbox, stopped on exit."""
    log_dir.mkdir(parents=True, exist_ok=True)
    env = settings_env(settings)
    commands = {s: service_argv(s) for s in services}
    commands |= {sb.name: sb.command(settings, ports[sb.name]) for sb in SANDBOXES}
    children = []
    for name, argv in commands.items():
        log_file = (log_dir / f"{name}.log").open("wb")
        children.append(
            subprocess.Popen(
                [sys.executable, *argv],
                env=env,
                cwd=REPO_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        yield
    finally:
        stop_all(children)


def stop_all(children: list[subprocess.Popen[bytes]], grace_s: float = 20.0) -> None:
    """SIGTERM every child, then SIGKILL whatever has not exited within one shared grace period
    (a service finishing an in-flight retry may take a while; seven of them must not add up)."""
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace_s
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def wait_for_http(url: str, timeout_s: float = 180) -> None:
    """Poll until ``url`` answers 200; generous, since services start slowly on a loaded machine."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout_s}s")
            await asyncio.sleep(0.2)
