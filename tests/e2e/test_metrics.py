"""Every service of the stack serves Prometheus, and the series an SRE alerts on move with the work:
a webhook moves the gateway's accept latency, ingest's provider calls and both consumers' counters;
a poison message shows in the dead-letter depth; a checkout is counted by its outcome."""

import uuid
from collections.abc import Callable

import httpx
from aiokafka import AIOKafkaProducer

from shared.messaging.topics import Topics
from tests.conftest import Stack
from tests.infra.prometheus import Scrape, metrics_urls, scrape
from tests.infra.revenuecat import RevenueCatSandbox, make_pack, wait_until_applied
from tests.infra.waiting import eventually

ACCEPT_COUNT = "billing_webhook_accept_seconds_count"
PROCESSED = "billing_messages_processed_total"
REFRESHED = "billing_metrics_collector_last_success_timestamp_seconds"


async def _scrape_when(url: str, ready: Callable[[Scrape], bool], what: str) -> Scrape:
    async def probe() -> Scrape | None:
        try:
            found = await scrape(url)
        except httpx.HTTPError:
            return None  # a consumer still starting
        return found if ready(found) else None

    return await eventually(probe, timeout_s=60, what=what)


async def _fresh_backlog(stack: Stack) -> Scrape:
    """catalog_sync's gauges from a refresh that started after this call (two refreshes later)."""
    url = metrics_urls(stack.settings, stack.gateway_url)["catalog-sync"]

    def finished(scraped: Scrape) -> float:
        return scraped.value(
            "billing_metrics_collector_last_success_timestamp_seconds", collector="dead_letters"
        )

    seen = finished(await _scrape_when(url, lambda s: finished(s) > 0, "a first backlog refresh"))
    for _ in range(2):
        later = await _scrape_when(url, lambda s, seen=seen: finished(s) > seen, "a later backlog refresh")
        seen = finished(later)
    return later


async def test_every_service_serves_metrics(stack: Stack) -> None:
    for service, url in metrics_urls(stack.settings, stack.gateway_url).items():
        scraped = await _scrape_when(url, lambda s: s.has("process_cpu_seconds_total"), f"{service} /metrics")
        assert scraped.has("process_cpu_seconds_total"), service
    backlog = await _fresh_backlog(stack)
    for topic in stack.topics.main():
        assert ("billing_dead_letter_depth", frozenset({("topic", topic)})) in backlog.samples, topic
    assert ("billing_outbox_backlog_rows", frozenset()) in backlog.samples
    assert ("billing_outbox_oldest_age_seconds", frozenset()) in backlog.samples
    # The session sets the acknowledgement key in the environment: configured, of unknown age.
    assert backlog.value("billing_secret_age_unknown", secret="ack_signing_secret") == 1
    assert backlog.value("billing_secret_max_age_seconds", secret="ack_signing_secret") == 90 * 86400


async def test_one_webhook_moves_gateway_ingest_and_worker_series(
    stack: Stack, rc: RevenueCatSandbox, user_id: str
) -> None:
    urls = metrics_urls(stack.settings, stack.gateway_url)
    _, product = await make_pack(stack.sessions)
    before = {name: await _scrape_when(url, lambda _: True, name) for name, url in urls.items()}
    raw, updates = stack.topics.webhooks_raw, stack.topics.entitlement_updates

    event = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, event["id"], user_id)

    def moved(service: str, name: str, **labels: str) -> Callable[[Scrape], bool]:
        return lambda now: now.value(name, **labels) > before[service].value(name, **labels)

    checks = [
        ("gateway", ACCEPT_COUNT, {"provider": "revenuecat", "outcome": "accepted"}),
        ("ingest", PROCESSED, {"topic": raw, "outcome": "ok"}),
        ("ingest", "billing_provider_call_seconds_count", {"provider": "revenuecat", "method": "GET"}),
        ("worker", PROCESSED, {"topic": updates, "outcome": "ok"}),
    ]
    for service, name, labels in checks:
        await _scrape_when(urls[service], moved(service, name, **labels), f"{service} {name}{labels}")
    # The histogram's buckets moved with its count: the webhook was answered within the top bucket.
    after = await scrape(urls["gateway"])
    top = {"provider": "revenuecat", "outcome": "accepted", "le": "10.0"}
    assert after.value("billing_webhook_accept_seconds_bucket", **top) > before["gateway"].value(
        "billing_webhook_accept_seconds_bucket", **top
    )
    # Both consumer groups report their lag per partition, and it drains once the work is done.
    backlog = await _fresh_backlog(stack)
    worker_group = stack.topics.group("entitlement-worker")
    ingest_group = stack.topics.group("webhook-ingest-revenuecat")
    assert len(backlog.where("billing_consumer_lag_messages", group=worker_group, topic=updates)) == 2
    assert len(backlog.where("billing_consumer_lag_messages", group=ingest_group, topic=raw)) == 2
    assert sum(backlog.where("billing_consumer_lag_messages", group=worker_group)) == 0
    assert sum(backlog.where("billing_consumer_lag_messages", group=ingest_group)) == 0
    assert backlog.value("billing_outbox_backlog_rows") == 0


async def test_a_dead_lettered_message_shows_in_the_dead_letter_depth(stack: Stack) -> None:
    # Entitlement updates: other tests read that DLQ by key only (catalog_sync's log must stay clean).
    topic = stack.topics.entitlement_updates
    depth_before = (await _fresh_backlog(stack)).value("billing_dead_letter_depth", topic=topic)
    marker = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=b"{not an update " + marker, key=marker)
    finally:
        await producer.stop()
    await stack.published.wait_for(Topics.dead_letters_of(topic), lambda r: r.key == marker)
    backlog = await _fresh_backlog(stack)
    assert backlog.value("billing_dead_letter_depth", topic=topic) == depth_before + 1


async def test_checkouts_are_counted_by_provider_and_outcome(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    url = metrics_urls(stack.settings, stack.gateway_url)["gateway"]
    pack, _ = await make_pack(stack.sessions)
    before = await scrape(url)
    created = await http.post(
        f"{stack.gateway_url}/v1/checkout",
        json={"userId": user_id, "packSlug": pack.slug, "provider": "revenuecat"},
    )
    missing = await http.post(
        f"{stack.gateway_url}/v1/checkout",
        json={
            "userId": user_id,
            "packSlug": f"no-such-pack-{uuid.uuid4().hex[:6]}",
            "provider": "revenuecat",
        },
    )
    assert (created.status_code, missing.status_code) == (201, 404)
    after = await scrape(url)
    for outcome in ("created", "pack_not_found"):
        labels = {"provider": "revenuecat", "outcome": outcome}
        assert (
            after.value("billing_checkouts_total", **labels)
            == before.value("billing_checkouts_total", **labels) + 1
        ), outcome
