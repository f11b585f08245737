"""One webhook is one trace across the gateway, webhook_ingest and entitlement_worker (three processes
exporting over OTLP/HTTP to a collector in the test), and every line they log is JSON naming the
request and the trace it belongs to."""

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from apps.stack.processes import REPO_ROOT, free_port, wait_for_http
from shared.db.engine import create_engine, session_factory
from shared.messaging.topics import Topics, ensure_topics
from tests.conftest import Stack
from tests.infra.catalog import extra_service
from tests.infra.otlp_collector import OtlpCollector, ReceivedSpan, otlp_collector
from tests.infra.own_database import database_url, own_database
from tests.infra.revenuecat import RevenueCatSandbox, make_pack, wait_until_applied
from tests.infra.topic_collector import TopicCollector
from tests.infra.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]

SERVICES = {"gateway": "gateway", "ingest": "webhook-ingest", "worker": "entitlement-worker"}
WEBHOOK_SPAN = "POST /v1/webhooks/{provider}"
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")


@dataclass
class TracedStack:
    topics: Topics
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    gateway_url: str
    collector: OtlpCollector
    published: TopicCollector
    logs: dict[str, Path]  # service → its log file


@dataclass(frozen=True)
class Webhook:
    event_id: str
    user_id: str
    trace_id: str  # read off the entitlement event the webhook caused


@pytest.fixture(scope="module")
async def traced(stack: Stack, run_id: str) -> AsyncIterator[TracedStack]:
    """A gateway, an ingest and a worker of their own (own database and topics) with tracing on."""
    async with otlp_collector() as collector, own_database(run_id) as database:
        namespace = f"{stack.settings.namespace}otel-{uuid.uuid4().hex[:6]}."
        overrides: dict[str, object] = {
            "namespace": namespace,
            "database_url": database_url(database),
            "gateway_port": free_port(),
            "ingest_metrics_port": free_port(),  # beside the session's own consumers
            "worker_metrics_port": free_port(),
            "lightning_poll_enabled": False,
        }
        settings = stack.settings.with_values(**overrides)
        await ensure_topics(settings)
        topics = Topics(namespace)
        published = TopicCollector(
            settings.kafka_bootstrap, [topics.webhooks_raw, topics.entitlement_updates, topics.entitlements]
        )
        await published.start()
        engine = create_engine(settings.database_url)
        log_dir = REPO_ROOT / ".local" / "test-logs" / run_id
        try:
            with ExitStack() as services:
                with pytest.MonkeyPatch.context() as env:  # read by the children as they start
                    env.setenv("OTEL_TRACES_EXPORTER", "otlp")
                    env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
                    env.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")  # export soon, the test waits on it
                    env.delenv("OTEL_SERVICE_NAME", raising=False)
                    for service in SERVICES:
                        services.enter_context(
                            extra_service(stack, service, f"{namespace}{service}", **overrides)
                        )
                gateway_url = f"http://127.0.0.1:{settings.gateway_port}"
                await wait_for_http(f"{gateway_url}/healthz", timeout_s=120)
                logs = {service: log_dir / f"{namespace}{service}.log" for service in SERVICES}
                yield TracedStack(
                    topics, session_factory(engine), engine, gateway_url, collector, published, logs
                )
        finally:
            await published.stop()
            await engine.dispose()


@pytest.fixture(scope="module")
async def webhook(stack: Stack, traced: TracedStack) -> Webhook:
    """One RevenueCat purchase delivered to the traced gateway and applied by the traced worker."""
    _, product = await make_pack(traced.sessions)
    user_id = f"user-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(timeout=30) as http:
        rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
        event = await rc.simulate(
            "purchase",
            app_user_id=f"rc_{user_id}",
            product_id=product,
            webhook_url=f"{traced.gateway_url}/v1/webhooks/revenuecat",
        )
    await wait_until_applied(traced.sessions, event["id"], user_id, timeout_s=90)
    announced = await traced.published.wait_for(
        traced.topics.entitlements, lambda r: user_id.encode() in r.value
    )
    trace_id = _trace_of(announced.headers)
    return Webhook(event["id"], user_id, trace_id)


def _trace_of(headers: dict[str, bytes]) -> str:
    found = TRACEPARENT.fullmatch(headers["traceparent"].decode())
    assert found is not None, headers
    return found.group(1)


async def _whole_trace(collector: OtlpCollector, trace_id: str) -> list[ReceivedSpan] | None:
    """The trace once the last hop's span (the relay's publish of the entitlement event) is in, and
    every parent a span names: a parent ends after its children, so it may come in a later export."""
    spans = collector.in_trace(trace_id)
    relayed = any(s.service == "entitlement-worker" and s.kind == "producer" for s in spans)
    roots = [s for s in spans if s.kind == "server" and s.name == WEBHOOK_SPAN]
    ids = {s.span_id for s in spans}
    parents_in = all(not s.parent_span_id or s.parent_span_id in ids for s in spans)
    return spans if relayed and roots and parents_in else None


def _ancestry(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[tuple[str, str]]:
    """(service, span name) from ``span`` up to its trace's root, following parent ids."""
    chain = [(span.service, span.name)]
    while span.parent_span_id:
        span = by_id[span.parent_span_id]  # a missing parent fails here: the chain is broken
        chain.append((span.service, span.name))
    return chain


async def test_one_webhook_is_one_trace_from_the_request_to_the_outbox_publish(
    traced: TracedStack, webhook: Webhook
) -> None:
    topics = traced.topics
    spans = await eventually(
        lambda: _whole_trace(traced.collector, webhook.trace_id), timeout_s=60, what="the whole trace"
    )
    by_id = {span.span_id: span for span in spans}
    assert {span.service for span in spans} == set(SERVICES.values())
    roots = [span for span in spans if not span.parent_span_id]
    assert [(r.service, r.kind, r.name) for r in roots] == [("gateway", "server", WEBHOOK_SPAN)]

    relay_publish = next(s for s in spans if s.service == "entitlement-worker" and s.kind == "producer")
    assert _ancestry(relay_publish, by_id) == [
        ("entitlement-worker", f"publish {topics.entitlements}"),
        ("entitlement-worker", f"process {topics.entitlement_updates}"),
        ("webhook-ingest", f"publish {topics.entitlement_updates}"),
        ("webhook-ingest", f"process {topics.webhooks_raw}"),
        ("gateway", f"publish {topics.webhooks_raw}"),
        ("gateway", WEBHOOK_SPAN),
    ]
    # ingest's re-read of the purchase at RevenueCat, and the worker's SQL, inside their hops
    reread = [s for s in spans if s.service == "webhook-ingest" and s.kind == "client"]
    assert reread and all(
        ("webhook-ingest", f"process {topics.webhooks_raw}") in _ancestry(s, by_id) for s in reread
    )
    statements = [s for s in spans if s.service == "entitlement-worker" and s.kind == "client"]
    assert any(s.attributes.get("db.system") == "postgresql" for s in statements)
    assert all(
        ("entitlement-worker", f"process {topics.entitlement_updates}") in _ancestry(s, by_id)
        for s in statements
    )

    # the records on both Kafka hops carry the same trace (W3C traceparent header)
    raw = traced.published.on(topics.webhooks_raw, lambda r: webhook.event_id.encode() in r.value)
    updates = traced.published.on(topics.entitlement_updates, lambda r: webhook.user_id.encode() in r.value)
    assert raw and updates
    assert {_trace_of(r.headers) for r in [*raw, *updates]} == {webhook.trace_id}


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # a line that is not JSON fails here


async def test_every_log_line_is_json_and_one_webhooks_lines_name_its_request_and_trace(
    traced: TracedStack, webhook: Webhook
) -> None:
    def lines_of(service: str, event: str) -> list[dict[str, Any]]:
        return [line for line in _json_lines(traced.logs[service]) if line.get("event") == event]

    accepted = [
        line for line in lines_of("gateway", "webhook_accepted") if line["delivery_id"] == webhook.event_id
    ]
    assert len(accepted) == 1 and accepted[0]["trace_id"] == webhook.trace_id
    request_id = accepted[0]["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # made by the gateway: the sandbox sent none
    access = [line for line in lines_of("gateway", "http_request") if line["request_id"] == request_id]
    assert [(line["path"], line["status"]) for line in access] == [("/v1/webhooks/revenuecat", 200)]

    confirmed = [
        line
        for line in lines_of("ingest", "revenuecat_event_confirmed")
        if line["event_id"] == webhook.event_id
    ]
    assert [(line["request_id"], line["trace_id"]) for line in confirmed] == [(request_id, webhook.trace_id)]
    applied = [
        line
        for line in lines_of("worker", "entitlement_batch_applied")
        if line.get("trace_id") == webhook.trace_id
    ]
    assert [line["request_id"] for line in applied] == [request_id]
    # library lines (FastStream's, aiokafka's, aiohttp's) are rendered by the same chain
    assert any(line.get("logger", "").startswith("faststream") for line in _json_lines(traced.logs["ingest"]))


async def test_the_gateway_echoes_a_callers_request_id_and_makes_one_otherwise(traced: TracedStack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        given = await http.get(f"{traced.gateway_url}/healthz", headers={"X-Request-Id": "probe-42.a"})
        made = await http.get(f"{traced.gateway_url}/healthz")
        refused = await http.get(f"{traced.gateway_url}/healthz", headers={"X-Request-Id": "x" * 200})
    assert given.headers["X-Request-Id"] == "probe-42.a"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"])
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["X-Request-Id"])  # too long to log: replaced
