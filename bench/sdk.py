"""The SDK's figures (``billing bench sdk``, and a stage of ``billing bench``): how long an
entitlement takes to reach an ``EntitlementCache``, and what its local check costs.

- *update → cache*: an entitlement update put on the updates topic (as ingest does) until the
  cache answers ``allowed`` (worker + outbox relay + the cache's consumer), one at a time.
- *event → cache*: the CloudEvent's Kafka timestamp (the relay's send) until the cache applied it.
- *is_allowed*: the local check, timed call by call (``perf_counter_ns``, the timer's own cost
  included) over the bootstrapped users and a few features, allowed and denied.
"""

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from hometryon_billing import AsyncBillingClient, EntitlementCache
from hometryon_billing.cache.events import EntitlementEvent

from apps.stack.seed import upsert_pack
from bench.stack import BenchStack
from bench.stats import latency_summary_ms, percentile
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider

TARGET_CHECK_P99_US = 50.0
FEATURES = ("bench.sdk", "bench.sdk.shared", "bench.not-sold")


async def sdk_benchmarks(
    stack: BenchStack, *, users: int = 500, events: int = 100, checks: int = 200_000, seed: int = 7
) -> dict[str, Any]:
    product = await _create_pack(stack)
    user_ids = [f"sdk-u{i}-{uuid.uuid4().hex[:6]}" for i in range(users)]
    published_to_applied: list[float] = []

    def applied(_: EntitlementEvent, published_at: float) -> None:
        published_to_applied.append(time.time() - published_at)  # one machine, one clock

    async with AsyncBillingClient(stack.gateway_url, api_key=stack.api_key, timeout_s=30) as client:
        cache = EntitlementCache(
            client,
            user_ids,
            bootstrap_servers=stack.settings.kafka_bootstrap,
            topic=stack.topics.entitlements,
            on_applied=applied,
        )
        began = time.perf_counter()
        await cache.start()
        try:
            await cache.wait_current(timeout_s=120)
            bootstrap_s = time.perf_counter() - began
            update_to_cache = await _purchases(stack, cache, product, user_ids[:events])
            check = _time_checks(cache, user_ids, checks, random.Random(seed))
        finally:
            await cache.stop()
    return {
        "users": users,
        "bootstrap_s": round(bootstrap_s, 2),
        "update_to_cache": latency_summary_ms(update_to_cache),
        "event_to_cache": latency_summary_ms(published_to_applied),
        "is_allowed": check,
    }


async def _create_pack(stack: BenchStack) -> str:
    suffix = uuid.uuid4().hex[:6]
    product = f"com.hometryon.bench.sdk.{suffix}"
    pack = MicroSaasPack(
        id=uuid.uuid4(),
        slug=f"bench-sdk-{suffix}",
        display_name="Bench SDK pack",
        features=list(FEATURES[:2]),
        default_price=499,
        billing_kind=BillingKind.ONE_TIME,
    )
    listing = ProviderProduct(
        provider=Provider.REVENUECAT, provider_product_id=product, currency="USD", price=499
    )
    async with stack.sessions() as session, session.begin():
        await upsert_pack(session, pack, [listing])
    return product


async def _purchases(
    stack: BenchStack, cache: EntitlementCache, product: str, users: list[str]
) -> list[float]:
    """One purchase at a time, each timed from its update's send until the cache allows it."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
    await producer.start()
    seconds: list[float] = []
    try:
        for user in users:
            now = datetime.now(UTC)
            update = EntitlementUpdate(
                update_id=f"bench-sdk-{uuid.uuid4().hex}",
                provider=Provider.REVENUECAT,
                provider_event_type="BENCH",
                user_id=user,
                provider_product_id=product,
                purchase_reference=f"tx-{user}",
                status=EntitlementStatus.ACTIVE,
                occurred_at=now,
                expires_at=now + timedelta(days=30),
            )
            began = time.perf_counter()
            await producer.send_and_wait(
                stack.topics.entitlement_updates, update.model_dump_json().encode(), key=user.encode()
            )
            deadline = began + 30
            while not cache.check(user, FEATURES[0]).allowed:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"the purchase of {user} did not reach the cache within 30 s")
                await asyncio.sleep(0.001)
            seconds.append(time.perf_counter() - began)
    finally:
        await producer.stop()
    return seconds


def _time_checks(cache: EntitlementCache, users: list[str], n: int, rng: random.Random) -> dict[str, Any]:
    pairs = [(rng.choice(users), rng.choice(FEATURES)) for _ in range(n)]
    ns: list[int] = []
    clock = time.perf_counter_ns
    allowed = 0
    for user, feature in pairs:
        t0 = clock()
        result = cache.is_allowed(user, feature)
        ns.append(clock() - t0)
        allowed += result
    us = [v / 1000 for v in ns]
    return {
        "calls": n,
        "allowed_share": round(allowed / n, 3),
        "p50_us": round(percentile(us, 50), 2),
        "p99_us": round(percentile(us, 99), 2),
        "max_us": round(max(us), 2),
        "target_p99_us": TARGET_CHECK_P99_US,
        "target_met": percentile(us, 99) <= TARGET_CHECK_P99_US,
    }


def render_sdk(sdk: dict[str, Any]) -> list[str]:
    check = sdk["is_allowed"]
    rows = [
        f"SDK EntitlementCache ({sdk['users']} users, bootstrapped in {sdk['bootstrap_s']} s)",
    ]
    for name in ("update_to_cache", "event_to_cache"):
        lat = sdk[name]
        rows.append(
            f"  {name.replace('_', ' ')}: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms,"
            f" p99 {lat['p99_ms']} ms ({lat['samples']} events)"
        )
    rows.append(
        f"  is_allowed: p50 {check['p50_us']} µs, p99 {check['p99_us']} µs, max {check['max_us']} µs"
        f" over {check['calls']} calls (target p99 ≤ {check['target_p99_us']:.0f} µs:"
        f" {'met' if check['target_met'] else 'MISSED'})"
    )
    return rows
