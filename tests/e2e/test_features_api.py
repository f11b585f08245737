"""Feature gating: allow/deny with the granting pack, through bundles, never stale after an event."""

import httpx
import pytest
from redis.asyncio import Redis

from shared.domain.entitlements import EntitlementStatus
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, unique_suffix
from tests.infra.catalog_entitlements import apply_and_wait, entitlement_update
from tests.infra.waiting import eventually

ACTIVE, REVOKED = EntitlementStatus.ACTIVE, EntitlementStatus.REVOKED


def _catalog(suffix: str) -> str:
    return f"""
catalog: features-{suffix}
packs:
  - slug: try-on-{suffix}
    display_name: Virtual Try-On
    features: [try_on.3d, try_on.share]
    feature_flags: {{try_on.share: false}}
    price: 499
    providers: {{revenuecat: {{product_id: rc.tryon.{suffix}, price: 499, currency: USD}}}}
  - slug: planner-{suffix}
    display_name: AR Room Planner
    features: [room.measure]
    price: 799
    providers: {{revenuecat: {{product_id: rc.planner.{suffix}, price: 799, currency: USD}}}}
  - slug: duo-{suffix}
    display_name: Duo
    bundle: [try-on-{suffix}, planner-{suffix}]
    price: 999
    providers: {{revenuecat: {{product_id: rc.duo.{suffix}, price: 999, currency: USD}}}}
"""


@pytest.fixture
async def suffix(stack: Stack) -> str:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    # Its change events bump the catalog version when the relay publishes them; a read racing
    # that bump is (rightly) not cached, so tests start after it.
    await stack.published.wait_for(stack.topics.catalog_changes, lambda r: r.key == f"duo-{suffix}".encode())
    return suffix


async def _feature(stack: Stack, http: httpx.AsyncClient, user_id: str, feature: str) -> dict:  # type: ignore[type-arg]
    response = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/features/{feature}")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_feature_of_an_owned_pack_is_allowed_with_the_granting_pack(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.tryon.{suffix}", "tx-1", ACTIVE))
    answer = await _feature(stack, http, user_id, "try_on.3d")
    assert answer["allowed"] is True
    assert answer["granted_by"]["pack_slug"] == f"try-on-{suffix}"
    assert answer["granted_by"]["via_bundle"] is None


async def test_feature_of_no_owned_pack_is_denied(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.tryon.{suffix}", "tx-1", ACTIVE))
    answer = await _feature(stack, http, user_id, "room.measure")
    assert (answer["allowed"], answer["granted_by"]) == (False, None)


async def test_feature_switched_off_by_its_flag_is_denied_to_owners(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.tryon.{suffix}", "tx-1", ACTIVE))
    assert (await _feature(stack, http, user_id, "try_on.share"))["allowed"] is False


async def test_feature_granted_through_a_bundle_names_the_bundle(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.duo.{suffix}", "tx-duo", ACTIVE), events=2)
    answer = await _feature(stack, http, user_id, "room.measure")
    assert answer["allowed"] is True
    assert answer["granted_by"]["pack_slug"] == f"planner-{suffix}"
    assert answer["granted_by"]["via_bundle"] == f"duo-{suffix}"


async def test_entitlements_answer_lists_the_feature_union_of_bundle_children(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    await apply_and_wait(stack, entitlement_update(user_id, f"rc.duo.{suffix}", "tx-duo", ACTIVE), events=2)
    body = (await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")).json()
    assert body["features"] == ["room.measure", "try_on.3d"]
    assert body["feature_grants"]["try_on.3d"] == {
        "pack_slug": f"try-on-{suffix}",
        "via_bundle": f"duo-{suffix}",
    }


async def test_cached_answer_is_never_stale_after_the_entitlement_event(
    stack: Stack, http: httpx.AsyncClient, user_id: str, suffix: str
) -> None:
    redis = Redis.from_url(stack.settings.redis_url)

    async def denial_cached() -> bool:
        # A catalog change elsewhere in the session may refuse one cache write (its version moved):
        # ask again until the denial is cached, so what follows exercises invalidation, not a cold read.
        assert (await _feature(stack, http, user_id, "room.measure"))["allowed"] is False
        return bool(await redis.exists(f"{stack.settings.namespace}features:grants:{user_id}"))

    try:
        await eventually(denial_cached, what="the denial cached")
    finally:
        await redis.aclose()

    await apply_and_wait(stack, entitlement_update(user_id, f"rc.planner.{suffix}", "tx-2", ACTIVE))
    assert (await _feature(stack, http, user_id, "room.measure"))["allowed"] is True

    await apply_and_wait(stack, entitlement_update(user_id, f"rc.planner.{suffix}", "tx-2", REVOKED))
    assert (await _feature(stack, http, user_id, "room.measure"))["allowed"] is False
