"""Time travel: what a user held at a past time, from the entitlement history, through the gateway."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from redis.asyncio import Redis

from shared.domain.entitlements import EntitlementStatus
from shared.domain.packs import MicroSaasPack
from tests.conftest import Stack
from tests.infra.history import deliver, entitlements_at, states, update_at

ACTIVE, EXPIRED, REVOKED = EntitlementStatus.ACTIVE, EntitlementStatus.EXPIRED, EntitlementStatus.REVOKED
# In the future, so the worker's expiry sweeper never adds an expiry of its own during a test.
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
DAY = timedelta(days=1)
FEATURES = ["try_on.3d", "try_on.share"]


async def _gap_lifecycle(stack: Stack, user_id: str, pack: MicroSaasPack) -> None:
    """Bought for a week, expired, renewed 13 days after the expiry for another week."""
    await deliver(
        stack,
        update_at(user_id, pack, "purchase", ACTIVE, T0, T0 + 7 * DAY),
        update_at(user_id, pack, "expiration", EXPIRED, T0 + 7 * DAY, T0 + 7 * DAY),
        update_at(user_id, pack, "renewal", ACTIVE, T0 + 20 * DAY, T0 + 27 * DAY),
    )


async def test_entitlements_at_a_time_between_transitions_are_the_state_then(
    stack: Stack, http: httpx.AsyncClient, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    await _gap_lifecycle(stack, user_id, subscription_pack)

    async def at(when: datetime) -> tuple[list[tuple[str, str | None]], list[str]]:
        answer = await entitlements_at(stack, http, user_id, at=when)
        return states(answer), answer["features"]

    week_one, week_three = (T0 + 7 * DAY).isoformat(), (T0 + 27 * DAY).isoformat()
    assert await at(T0 - timedelta(hours=1)) == ([], [])  # before the purchase
    assert await at(T0 + DAY) == ([("active", week_one)], FEATURES)
    assert await at(T0 + 10 * DAY) == ([("expired", week_one)], [])  # in the gap
    assert await at(T0 + 21 * DAY) == ([("active", week_three)], FEATURES)
    # No expiry event yet: the renewal is still the last state, but its features ran out.
    assert await at(T0 + 30 * DAY) == ([("active", week_three)], [])


async def test_feature_at_a_time_is_allowed_only_while_a_pack_granted_it(
    stack: Stack, http: httpx.AsyncClient, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    await _gap_lifecycle(stack, user_id, subscription_pack)
    url = f"{stack.gateway_url}/v1/users/{user_id}/features/try_on.3d"
    answers = {}
    for days in (1, 10, 21):
        response = await http.get(url, params={"at": (T0 + days * DAY).isoformat()})
        assert response.status_code == 200
        answers[days] = response.json()
    assert {days: a["allowed"] for days, a in answers.items()} == {1: True, 10: False, 21: True}
    current = (await http.get(url)).json()
    assert set(answers[1]) == set(current)  # the shape of the current answer
    assert answers[1]["granted_by"] == {
        "pack_slug": subscription_pack.slug,
        "via_bundle": None,
        "expires_at": (T0 + 7 * DAY).isoformat(),
    }


async def test_late_older_event_changes_the_past_but_not_the_current_state(
    stack: Stack, http: httpx.AsyncClient, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    purchase = update_at(user_id, subscription_pack, "purchase", ACTIVE, T0, T0 + 30 * DAY)
    refund = update_at(user_id, subscription_pack, "refund", REVOKED, T0 + 5 * DAY)
    [refund_row] = await deliver(stack, refund)  # the refund overtook the purchase
    assert states(await entitlements_at(stack, http, user_id, at=T0 + DAY)) == []

    rows = await deliver(stack, purchase)

    assert [(r.provider_event_id, r.applied) for r in rows] == [
        (refund.update_id, True),
        (purchase.update_id, False),  # kept, though older than the ledger's state
    ]
    assert states(await entitlements_at(stack, http, user_id, at=T0 + DAY)) == [
        ("active", (T0 + 30 * DAY).isoformat())
    ]
    assert states(await entitlements_at(stack, http, user_id, at=T0 + 6 * DAY)) == [("revoked", None)]
    as_we_knew_it = await entitlements_at(stack, http, user_id, at=T0 + DAY, known_at=refund_row.recorded_at)
    assert states(as_we_knew_it) == []
    current = await entitlements_at(stack, http, user_id)
    assert (states(current), current["features"]) == ([("revoked", None)], [])


async def test_answers_at_a_past_time_neither_read_nor_fill_the_feature_cache(
    stack: Stack, http: httpx.AsyncClient, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    await deliver(
        stack,
        update_at(user_id, subscription_pack, "purchase", ACTIVE, T0, T0 + 30 * DAY),
        update_at(user_id, subscription_pack, "refund", REVOKED, T0 + 5 * DAY),
    )
    url = f"{stack.gateway_url}/v1/users/{user_id}/features/try_on.3d"
    cached_entry = f"{stack.settings.namespace}features:grants:{user_id}"
    redis = Redis.from_url(stack.settings.redis_url)
    try:
        assert (await http.get(url, params={"at": (T0 + DAY).isoformat()})).json()["allowed"] is True
        assert await redis.exists(cached_entry) == 0
        assert (await http.get(url)).json()["allowed"] is False
        assert await redis.exists(cached_entry) == 1  # the current answer is cached: the key is right
        assert (await http.get(url, params={"at": (T0 + DAY).isoformat()})).json()["allowed"] is True
    finally:
        await redis.aclose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("at", "yesterday"),
        ("at", "2026-03-03"),  # a date alone
        ("at", "2026-03-03T00:00:00"),  # no offset: whose midnight?
        ("at", "2026-03-03T00:00:00 01:00"),  # an unencoded "+"
        ("at", "2026-13-03T00:00:00Z"),
        ("at", "1700000000"),
        ("known_at", "2026-03-03T25:00:00Z"),
    ],
)
@pytest.mark.parametrize("path", ["entitlements", "features/try_on.3d"])
async def test_malformed_time_is_a_400_naming_the_parameter(
    stack: Stack, http: httpx.AsyncClient, user_id: str, path: str, name: str, value: str
) -> None:
    response = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/{path}", params={name: value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_time", name)
