"""Session fixtures: real Kafka, Postgres and Redis, our services as subprocesses, per-run isolation."""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.processes import (
    REPO_ROOT,
    SERVICES,
    drop_session_database,
    prepare_backing_stores,
    running_services,
    sandbox_ports,
    sandbox_settings,
    session_settings,
    start_infrastructure,
    wait_for_http,
)
from apps.stack.seed import create_full_scope_key, upsert_pack
from shared.db.engine import create_engine, session_factory
from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider
from shared.messaging.topics import Topics
from shared.settings import Settings
from tests.infra.topic_collector import TopicCollector

# Properties run the same 500 examples everywhere: a property that fails, fails on every run.
hypothesis_settings.register_profile(
    "billing",
    max_examples=500,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("billing")


@dataclass(frozen=True)
class Stack:
    settings: Settings
    topics: Topics
    gateway_url: str
    sessions: async_sessionmaker[AsyncSession]
    published: TopicCollector
    sandbox_urls: dict[str, str]


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def infrastructure() -> None:
    start_infrastructure()


@pytest.fixture(scope="session")
async def stack(infrastructure: None, run_id: str) -> AsyncIterator[Stack]:
    ports = sandbox_ports()
    # catalog-sync reconciles on start-up and on each change; no scheduled run in the middle of a test.
    settings = session_settings(run_id, catalog_sync_interval_s=3600.0, **sandbox_settings(ports))
    database = f"billing_test_{run_id}"
    await prepare_backing_stores(settings, database)
    topics = Topics(settings.namespace)
    collector = TopicCollector(settings.kafka_bootstrap, topics.all())
    await collector.start()
    engine = create_engine(settings.database_url)
    log_dir = REPO_ROOT / ".local" / "test-logs" / run_id
    with running_services(settings, SERVICES, ports, log_dir):
        gateway_url = f"http://127.0.0.1:{settings.gateway_port}"
        # Seven processes import at once; on a busy 2-core machine that alone can take 30 s.
        await wait_for_http(f"{gateway_url}/healthz", timeout_s=120)
        sandbox_urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for url in sandbox_urls.values():
            await wait_for_http(f"{url}/healthz", timeout_s=120)
        yield Stack(settings, topics, gateway_url, session_factory(engine), collector, sandbox_urls)
    await collector.stop()
    await engine.dispose()
    await drop_session_database(database)


@pytest.fixture(scope="session")
async def api_key(stack: Stack) -> str:
    """A full-scope gateway API key in the session database (tests of auth use their own clients)."""
    return await create_full_scope_key(stack.sessions)


@pytest.fixture
async def http(api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30, headers={"X-API-Key": api_key}) as client:
        yield client


@pytest.fixture
def user_id() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def subscription_pack(stack: Stack) -> MicroSaasPack:
    """A subscription pack sold on RevenueCat as a product unique to this test."""
    suffix = uuid.uuid4().hex[:8]
    pack = MicroSaasPack(
        id=uuid.uuid4(),
        slug=f"virtual-try-on-{suffix}",
        display_name="Virtual Try-On",
        features=["try_on.3d", "try_on.share"],
        default_price=499,
        billing_kind=BillingKind.SUBSCRIPTION,
        billing_period="P1W",
    )
    product = ProviderProduct(
        provider=Provider.REVENUECAT,
        provider_product_id=f"com.hometryon.tryon.weekly.{suffix}",
        currency="USD",
        price=499,
    )
    async with stack.sessions() as session, session.begin():
        await upsert_pack(session, pack, [product])
    return pack


def revenuecat_product_of(pack: MicroSaasPack) -> str:
    return f"com.hometryon.tryon.weekly.{pack.slug.rsplit('-', 1)[-1]}"


@pytest.fixture
def auth_headers(stack: Stack) -> Iterator[dict[str, str]]:
    yield {
        "Authorization": stack.settings.revenuecat.webhook_authorization.get_secret_value(),
        "Content-Type": "application/json",
    }


STACK_MARKERS = ("kafka", "postgres", "redis")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the session stack needs all three real services: the stack marks it itself."""
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            for name in STACK_MARKERS:
                item.add_marker(getattr(pytest.mark, name))
