"""RevenueCat-style webhooks for a run: real customers in the sandbox, a realistic mix, ~5 % duplicates.

Purchases are made in the RevenueCat sandbox (held, never delivered by it), so the subscribers API that
ingest re-reads knows every customer. Renewal, cancellation and TEST notifications are the same event
re-stamped with a new id and type: webhooks are only triggers, ingest applies the snapshot either way.
"""

import asyncio
import functools
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.seed import upsert_pack
from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider

SUBSCRIPTION_PRODUCTS = 3
DUPLICATE_SHARE = 0.05
TEST_SHARE = 0.01
EXTRA_TYPES = (("RENEWAL", 0.6), ("CANCELLATION", 0.25), ("UNCANCELLATION", 0.15))
SEED_CONCURRENCY = 32
T = TypeVar("T")


@dataclass(frozen=True)
class Products:
    subscriptions: list[str]
    one_time: str


@dataclass
class Workload:
    """What to post, and what must exist afterwards."""

    label: str
    bodies: list[bytes]  # in posting order, duplicates included
    event_ids: list[str]  # the event id of each body
    pairs: set[tuple[str, str]]  # (user id, product id): one entitlement and one activation each
    applied_updates: int  # updates the distinct webhooks yield (TEST yields none)

    @property
    def users(self) -> int:
        return len({user for user, _ in self.pairs})


async def create_products(sessions: async_sessionmaker[AsyncSession]) -> Products:
    """Packs sold on RevenueCat: a few subscriptions and one lifetime (non-renewing) purchase."""
    suffix = uuid.uuid4().hex[:6]
    subscriptions = [f"com.hometryon.bench.sub{i}.{suffix}" for i in range(SUBSCRIPTION_PRODUCTS)]
    one_time = f"com.hometryon.bench.lifetime.{suffix}"
    async with sessions() as session, session.begin():
        for i, product in enumerate([*subscriptions, one_time]):
            kind = BillingKind.ONE_TIME if product == one_time else BillingKind.SUBSCRIPTION
            pack = MicroSaasPack(
                id=uuid.uuid4(),
                slug=f"bench-pack-{i}-{suffix}",
                display_name=f"Bench pack {i}",
                features=[f"bench.feature{i}", "bench.shared"],
                default_price=499,
                billing_kind=kind,
                billing_period="P1M" if kind is BillingKind.SUBSCRIPTION else None,
            )
            listing = ProviderProduct(
                provider=Provider.REVENUECAT, provider_product_id=product, currency="USD", price=499
            )
            await upsert_pack(session, pack, [listing])
    return Products(subscriptions, one_time)


async def build_workload(
    http: httpx.AsyncClient, sandbox_url: str, products: Products, label: str, n: int, seed: int
) -> Workload:
    """``n`` webhook bodies for about ``n / 4`` users of this run (``label`` keeps runs apart)."""
    rng = random.Random(seed)
    duplicates = round(n * DUPLICATE_SHARE)
    tests = round(n * TEST_SHARE)
    users = [f"{label}-u{i}" for i in range(max(1, n // 4))]
    purchases: list[tuple[str, str, str]] = []  # (kind, user, product)
    for user in users:
        for product in rng.sample(products.subscriptions, rng.choice((1, 1, 2))):
            purchases.append(("purchase", user, product))
        if rng.random() < 0.4:
            purchases.append(("non-renewing-purchase", user, products.one_time))
    purchases = purchases[: n - duplicates - tests]
    events = await _simulate_all(http, sandbox_url, purchases)
    extras = n - duplicates - tests - len(events)
    originals = list(events)
    for _ in range(extras):
        kind = _pick(rng, EXTRA_TYPES)
        events.append(_restamped(rng.choice(originals), kind))
    for _ in range(tests):
        events.append(_restamped(rng.choice(originals), "TEST"))
    rng.shuffle(events)
    bodies = [orjson.dumps({"event": e, "api_version": "1.0"}) for e in events]
    ids = [str(e["id"]) for e in events]
    for _ in range(duplicates):  # a redelivery, some time after the original
        at = rng.randrange(len(events) // 2)
        position = min(len(bodies), at + rng.randrange(1, 200))
        bodies.insert(position, bodies[at])
        ids.insert(position, ids[at])
    pairs = {(user, product) for _, user, product in purchases}
    # Ingest applies the snapshot: one update per product the user holds, for each distinct webhook.
    held = Counter(user for user, _ in pairs)
    updates = sum(held[e["app_user_id"].removeprefix("rc_")] for e in events if e["type"] != "TEST")
    return Workload(label, bodies, ids, pairs, applied_updates=updates)


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def _restamped(event: dict[str, Any], event_type: str) -> dict[str, Any]:
    return event | {"id": str(uuid.uuid4()).upper(), "type": event_type}


async def _simulate_all(
    http: httpx.AsyncClient, sandbox_url: str, purchases: list[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    async def simulate(kind: str, user: str, product: str) -> dict[str, Any]:
        response = await http.post(
            f"{sandbox_url}/control/simulate/{kind}",
            json={"app_user_id": f"rc_{user}", "product_id": product, "deliver": "hold"},
        )
        response.raise_for_status()
        event: dict[str, Any] = response.json()["event"]
        return event

    calls: list[Callable[[], Awaitable[dict[str, Any]]]] = [
        functools.partial(simulate, k, u, p) for k, u, p in purchases
    ]
    return await bounded_gather(calls, SEED_CONCURRENCY)


async def bounded_gather(calls: list[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    """Run the calls with at most ``concurrency`` in flight; results in call order."""
    results: list[T | None] = [None] * len(calls)
    next_index = 0

    async def lane() -> None:
        nonlocal next_index
        while next_index < len(calls):
            index = next_index
            next_index += 1
            results[index] = await calls[index]()

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return results  # type: ignore[return-value]
