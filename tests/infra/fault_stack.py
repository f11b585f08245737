"""The fault suite's stack: private Kafka/PostgreSQL/Redis, every service and sandbox as a process of
its own, and the knobs a scenario turns (SIGKILL and start a service, stop and start a dependency)."""

import asyncio
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from apps.stack.processes import (
    REPO_ROOT,
    SERVICES,
    prepare_backing_stores,
    sandbox_ports,
    sandbox_settings,
    session_database_url,
    session_settings,
    wait_for_http,
)
from apps.stack.sandboxes import SANDBOXES
from apps.stack.seed import create_full_scope_key
from shared.db.engine import create_engine, session_factory
from shared.domain.packs import BillingKind, MicroSaasPack
from shared.messaging.topics import Topics
from shared.settings import Settings
from tests.infra.lightning import lightning_pack
from tests.infra.private_infra import InfraScriptFailed, PrivateInfra
from tests.infra.revenuecat import make_pack
from tests.infra.service_processes import ServiceProcesses
from tests.infra.topic_collector import TopicCollector

SANDBOX_NAMES = frozenset(sandbox.name for sandbox in SANDBOXES)
# The sandboxes retry on a schedule long enough to outlast every outage the suite causes:
# RevenueCat 5/10/20/40/80 "minutes" of 300 ms (1.5 s … 24 s, 46 s in all), BTCPay 10 s, 1 min,
# 6 x 10 min scaled by 0.02 (0.2 s, 1.2 s, 6 x 12 s).
SANDBOX_OPTIONS = {
    "revenuecat": {"--retry-unit-ms": "300"},
    "btcpay": {"--retry-scale": "0.02"},
}


@dataclass(frozen=True)
class FaultPacks:
    revenuecat: dict[str, MicroSaasPack]  # RevenueCat product id → its pack (subscriptions, P1W)
    lightning: MicroSaasPack  # one-time, priced in BTC


@dataclass
class FaultStack:
    settings: Settings
    topics: Topics
    gateway_url: str
    sandbox_urls: dict[str, str]
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    published: TopicCollector
    processes: ServiceProcesses
    infra: PrivateInfra
    api_key: str
    packs: FaultPacks
    http: httpx.AsyncClient

    @property
    def pg_dsn(self) -> str:
        return self.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")

    async def kill_service(self, name: str) -> None:
        """SIGKILL one service process (``worker``, ``worker-2``, ``gateway`` …)."""
        await asyncio.to_thread(self.processes.kill, name)

    async def start_service(self, name: str) -> None:
        await asyncio.to_thread(self.processes.start, name)
        if name == "gateway":
            await wait_for_http(f"{self.gateway_url}/healthz", timeout_s=180)

    async def stop_kafka(self) -> None:
        await asyncio.to_thread(self.infra.stop, "kafka")

    async def start_kafka(self) -> None:
        await asyncio.to_thread(self.infra.start, "kafka")

    async def stop_postgres(self) -> None:
        await asyncio.to_thread(self.infra.stop, "postgres")

    async def start_postgres(self) -> None:
        await asyncio.to_thread(self.infra.start, "postgres")

    async def stop_redis(self) -> None:
        await asyncio.to_thread(self.infra.stop, "redis")

    async def start_redis(self) -> None:
        await asyncio.to_thread(self.infra.start, "redis")

    async def restart_services(self) -> None:
        """Stop and start every service process (the sandboxes keep running: they hold the truth)."""
        for name in list(self.processes.running):
            if name not in SANDBOX_NAMES:
                await asyncio.to_thread(self.processes.stop, name)
        for name in SERVICES:
            await self.start_service(name)

    async def restore(self) -> None:
        """Undo what a scenario left behind (also after a failure): every dependency up, one instance
        of each service and sandbox running, no provider fault active."""
        await asyncio.to_thread(self.infra.start)
        for name in list(self.processes.running):
            if name not in self.processes.commands:  # an extra instance, e.g. worker-2
                await asyncio.to_thread(self.processes.stop, name)
        for name in self.processes.commands:
            if not self.processes.is_running(name):
                await self.start_service(name)
        for scope in ("v1", "all"):
            await self.http.post(
                f"{self.sandbox_urls['revenuecat']}/control/faults", json={"scope": scope, "mode": "off"}
            )
        await self.http.post(f"{self.sandbox_urls['btcpay']}/control/faults", json={"invoiceReads": "off"})


def fault_settings(infra: PrivateInfra, run_id: str, ports: dict[str, int]) -> Settings:
    """A test session's settings, pointed at the private infrastructure."""
    return session_settings(
        run_id,
        **sandbox_settings(ports),
        database_url=session_database_url(f"billing_faults_{run_id}", infra.server_url),
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        namespace=f"faults-{run_id}.",
        secrets_dir=str(infra.local_dir / "secrets"),
        # A RevenueCat read that hangs is given up on after 2 s (the "timeout" fault holds it longer).
        revenuecat_http_timeout_s=2.0,
    )


@asynccontextmanager
async def fault_stack() -> AsyncIterator[FaultStack]:
    """Start the private infrastructure and the whole stack; tear all of it down afterwards."""
    run_id = f"{time.strftime('%H%M%S')}{uuid.uuid4().hex[:4]}"
    infra = await asyncio.to_thread(_started_private_infra, run_id)
    try:
        ports = sandbox_ports()
        settings = fault_settings(infra, run_id, ports)
        await prepare_backing_stores(settings, f"billing_faults_{run_id}")
        topics = Topics(settings.namespace)
        collector = TopicCollector(settings.kafka_bootstrap, topics.all())
        await collector.start()
        engine = create_engine(settings.database_url)
        log_dir = REPO_ROOT / ".local" / "test-logs" / f"faults-{run_id}"
        processes = ServiceProcesses.for_stack(settings, SERVICES, ports, log_dir, SANDBOX_OPTIONS)
        try:
            processes.start_all()
            stack = await _ready_stack(settings, topics, ports, engine, collector, processes, infra)
            async with stack.http:
                yield stack
        finally:
            await asyncio.to_thread(processes.stop_all)
            await collector.stop()
            await engine.dispose()
    finally:
        await asyncio.to_thread(infra.destroy)


def _started_private_infra(run_id: str, attempts: int = 3) -> PrivateInfra:
    """The private infrastructure, up. A start that fails (a port taken between choosing and binding
    it, a JVM too slow on a loaded machine) is told as a warning with what the start script wrote, and
    tried again from nothing on other ports; the last attempt's failure fails the suite."""
    for attempt in range(1, attempts):
        infra = PrivateInfra.on_free_ports(REPO_ROOT / ".local" / "faults" / f"{run_id}-{attempt}")
        try:
            infra.start()
            return infra
        except InfraScriptFailed as failure:
            infra.destroy()
            warnings.warn(f"fault stack: start {attempt} of {attempts} failed: {failure}", stacklevel=1)
    infra = PrivateInfra.on_free_ports(REPO_ROOT / ".local" / "faults" / f"{run_id}-{attempts}")
    infra.start()
    return infra


async def _ready_stack(
    settings: Settings,
    topics: Topics,
    ports: dict[str, int],
    engine: AsyncEngine,
    collector: TopicCollector,
    processes: ServiceProcesses,
    infra: PrivateInfra,
) -> FaultStack:
    gateway_url = f"http://127.0.0.1:{settings.gateway_port}"
    sandbox_urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    for url in [gateway_url, *sandbox_urls.values()]:
        await wait_for_http(f"{url}/healthz", timeout_s=180)  # a loaded machine starts Python slowly
    sessions = session_factory(engine)
    revenuecat = {product: pack for pack, product in [await make_pack(sessions) for _ in range(2)]}
    pack, _ = await lightning_pack(sessions, price=2_100_000, currency="BTC", kind=BillingKind.ONE_TIME)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    return FaultStack(
        settings=settings,
        topics=topics,
        gateway_url=gateway_url,
        sandbox_urls=sandbox_urls,
        engine=engine,
        sessions=sessions,
        published=collector,
        processes=processes,
        infra=infra,
        api_key=await create_full_scope_key(sessions, name="fault suite"),
        packs=FaultPacks(revenuecat, pack),
        http=httpx.AsyncClient(timeout=60, limits=limits),
    )
