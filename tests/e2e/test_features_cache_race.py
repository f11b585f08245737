"""The feature cache against the real Redis: a reader that loaded old rows never caches them."""

import uuid

from redis.asyncio import Redis

from shared.catalog.grants import FeatureGrant
from shared.entitlement_cache import FeatureCache
from tests.conftest import Stack

OLD = [FeatureGrant("room.measure", "planner", None, None)]
NEW: list[FeatureGrant] = []


async def test_invalidation_during_a_load_keeps_the_loaded_rows_out_of_the_cache(stack: Stack) -> None:
    redis = Redis.from_url(stack.settings.redis_url)
    cache = FeatureCache(redis, f"{stack.settings.namespace}race-{uuid.uuid4().hex[:6]}.")
    user_id = "racer"

    async def load_old_rows_while_the_relay_invalidates() -> list[FeatureGrant]:
        # The reader has read the old row; the change commits and the relay invalidates now.
        await cache.invalidate_users([user_id])
        return OLD

    async def load_current_rows() -> list[FeatureGrant]:
        return NEW

    try:
        assert await cache.grants(user_id, load_old_rows_while_the_relay_invalidates) == OLD
        assert await cache.grants(user_id, load_current_rows) == NEW
    finally:
        await redis.aclose()


async def test_current_entry_is_served_without_loading(stack: Stack) -> None:
    redis = Redis.from_url(stack.settings.redis_url)
    cache = FeatureCache(redis, f"{stack.settings.namespace}hit-{uuid.uuid4().hex[:6]}.")

    async def must_not_load() -> list[FeatureGrant]:
        raise AssertionError("a current entry was not used")

    async def load() -> list[FeatureGrant]:
        return OLD

    try:
        await cache.grants("reader", load)
        assert await cache.grants("reader", must_not_load) == OLD
    finally:
        await redis.aclose()


async def test_catalog_change_invalidates_every_users_entry(stack: Stack) -> None:
    redis = Redis.from_url(stack.settings.redis_url)
    cache = FeatureCache(redis, f"{stack.settings.namespace}cat-{uuid.uuid4().hex[:6]}.")
    loads: list[str] = []

    async def load() -> list[FeatureGrant]:
        loads.append("load")
        return OLD

    try:
        await cache.grants("reader", load)
        await cache.invalidate_catalog()
        await cache.grants("reader", load)
        assert loads == ["load", "load"]
    finally:
        await redis.aclose()
