"""The SDK's ``EntitlementCache`` on the real stack: bootstrap from the API, follow the entitlement
CloudEvents, deny revoked and expired users, bootstrap again after a restart, refuse when stale.

The delay from an event to the cache is measured by ``billing bench sdk``, not asserted here."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from hometryon_billing import AsyncBillingClient, Bounds, CacheNotReadyError, EntitlementCache, Phase
from hometryon_billing.errors import UnknownUserError

from shared.domain.entitlements import EntitlementStatus
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, unique_suffix
from tests.infra.catalog_entitlements import apply_and_wait, entitlement_update
from tests.infra.waiting import eventually

ACTIVE, EXPIRED, REVOKED = EntitlementStatus.ACTIVE, EntitlementStatus.EXPIRED, EntitlementStatus.REVOKED


def _catalog(suffix: str) -> str:
    return f"""
catalog: sdk-{suffix}
packs:
  - slug: sdk-try-on-{suffix}
    display_name: Virtual Try-On
    features: [try_on.3d]
    price: 499
    providers: {{revenuecat: {{product_id: rc.sdk.tryon.{suffix}, price: 499, currency: USD}}}}
  - slug: sdk-planner-{suffix}
    display_name: AR Room Planner
    features: [room.measure]
    price: 799
    providers: {{revenuecat: {{product_id: rc.sdk.planner.{suffix}, price: 799, currency: USD}}}}
"""


@pytest.fixture
async def suffix(stack: Stack) -> str:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    return suffix


@pytest.fixture
async def billing(stack: Stack, api_key: str) -> AsyncIterator[AsyncBillingClient]:
    async with AsyncBillingClient(stack.gateway_url, api_key=api_key, timeout_s=30) as client:
        yield client


class SteerableClock:
    """The monotonic clock, plus an offset a test moves forward to age the cache at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@asynccontextmanager
async def following(
    stack: Stack, billing: AsyncBillingClient, *users: str, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[EntitlementCache]:
    cache = EntitlementCache(
        billing,
        users,
        bootstrap_servers=stack.settings.kafka_bootstrap,
        topic=stack.topics.entitlements,
        bounds=Bounds(max_staleness_s=10.0),  # a busy 2-core machine; the stale test ages it past this
        clock=clock,
    )
    await cache.start()
    try:
        await cache.wait_current()
        yield cache
    finally:
        await cache.stop()


def _allowed(cache: EntitlementCache, user_id: str, feature: str) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return cache.check(user_id, feature).allowed

    return probe


def _denied(cache: EntitlementCache, user_id: str, feature: str) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return cache.check(user_id, feature).reason == "not_granted"

    return probe


async def test_a_purchase_reaches_the_running_cache(
    stack: Stack, billing: AsyncBillingClient, suffix: str, user_id: str
) -> None:
    async with following(stack, billing, user_id) as cache:
        assert cache.is_allowed(user_id, "try_on.3d") is False
        await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.tryon.{suffix}", "tx-1", ACTIVE))
        await eventually(_allowed(cache, user_id, "try_on.3d"), what="the purchase in the cache")
        assert cache.is_allowed(user_id, "room.measure") is False
        assert cache.applied_events == 1


async def test_bootstrap_loads_what_was_bought_before_the_cache_started(
    stack: Stack, billing: AsyncBillingClient, suffix: str, user_id: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.planner.{suffix}", "tx-1", ACTIVE))
    async with following(stack, billing, user_id) as cache:
        assert cache.is_allowed(user_id, "room.measure") is True
        assert cache.applied_events == 0  # from the API, not from replaying the topic
        with pytest.raises(UnknownUserError):
            cache.is_allowed(f"{user_id}-not-followed", "room.measure")


async def test_a_revoked_user_is_denied(
    stack: Stack, billing: AsyncBillingClient, suffix: str, user_id: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.tryon.{suffix}", "tx-1", ACTIVE))
    async with following(stack, billing, user_id) as cache:
        assert cache.is_allowed(user_id, "try_on.3d") is True
        [held] = (await billing.entitlements(user_id)).entitlements
        await billing.revoke_entitlement(str(held.entitlement_id), "sdk test")
        await eventually(_denied(cache, user_id, "try_on.3d"), what="the revocation in the cache")


async def test_an_expired_user_is_denied(
    stack: Stack, billing: AsyncBillingClient, suffix: str, user_id: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.tryon.{suffix}", "tx-1", ACTIVE))
    async with following(stack, billing, user_id) as cache:
        assert cache.is_allowed(user_id, "try_on.3d") is True
        await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.tryon.{suffix}", "tx-1", EXPIRED))
        await eventually(_denied(cache, user_id, "try_on.3d"), what="the expiry in the cache")


async def test_a_restarted_cache_bootstraps_what_changed_while_it_was_down(
    stack: Stack, billing: AsyncBillingClient, suffix: str, user_id: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.tryon.{suffix}", "tx-1", ACTIVE))
    async with following(stack, billing, user_id) as first:
        assert first.is_allowed(user_id, "try_on.3d") is True
    with pytest.raises(CacheNotReadyError) as stopped:
        first.is_allowed(user_id, "try_on.3d")
    assert stopped.value.reason == "stopped"

    await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.tryon.{suffix}", "tx-1", REVOKED))
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.planner.{suffix}", "tx-2", ACTIVE))

    second = EntitlementCache(
        billing, [user_id], bootstrap_servers=stack.settings.kafka_bootstrap, topic=stack.topics.entitlements
    )
    await second.start()
    try:
        # Bootstrapped, but not yet past the end offsets read after it: no answer yet.
        with pytest.raises(CacheNotReadyError) as catching_up:
            second.is_allowed(user_id, "try_on.3d")
        assert catching_up.value.reason == "catching_up"
        await second.wait_current()
        assert (second.is_allowed(user_id, "try_on.3d"), second.is_allowed(user_id, "room.measure")) == (
            False,
            True,
        )
        assert second.lag().phase is Phase.LIVE
    finally:
        await second.stop()


async def test_a_cache_not_known_current_refuses_to_answer(
    stack: Stack, billing: AsyncBillingClient, suffix: str, user_id: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.sdk.tryon.{suffix}", "tx-1", ACTIVE))
    clock = SteerableClock()
    async with following(stack, billing, user_id, clock=clock) as cache:
        assert cache.is_allowed(user_id, "try_on.3d") is True
        lag = cache.lag()
        assert lag.current_as_of_age_s is not None and lag.records_behind
        # As if the consumer had heard nothing from the broker for a minute (no await in between:
        # the follower cannot probe again before the check).
        clock.offset += 60
        with pytest.raises(CacheNotReadyError) as silent:
            cache.is_allowed(user_id, "try_on.3d")
        assert silent.value.reason == "silent"
        decision = cache.check(user_id, "try_on.3d")
        assert (decision.allowed, decision.reason) == (False, "silent")
        # The follower probes again and the cache answers once it knows it is current.
        await eventually(_allowed(cache, user_id, "try_on.3d"), what="the cache current again")
