"""Scenarios 4, 5, 6 and 9: Kafka, PostgreSQL or Redis goes away under load and comes back.

A dependency that is down is transient: nothing dead-lettered, everything applied once it is back,
no operator action. What the gateway answers meanwhile is checked on webhooks posted to it directly.
"""

import asyncio
import time
import uuid
from collections import Counter

import asyncpg
import httpx
import pytest

from shared.messaging.outbox_relay import RELAY_LOCK_KEY
from tests.infra.fault_checks import ledger_of
from tests.infra.fault_load import LoadDriver
from tests.infra.fault_scenarios import DirectAnswer, DirectPoster, record, run_under_fault
from tests.infra.fault_stack import FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]


def driver_for(stack: FaultStack, name: str) -> LoadDriver:
    return LoadDriver(stack, f"{name}-{uuid.uuid4().hex[:6]}")


def statuses(answers: list[DirectAnswer]) -> dict[str, int]:
    return {str(k): v for k, v in Counter(a.status for a in answers).items()}


@pytest.mark.timeout(600)
async def test_kafka_restart_gateway_never_answers_200_without_the_ack(stack: FaultStack) -> None:
    driver = driver_for(stack, "kafka-restart")
    answers: list[DirectAnswer] = []
    window: dict[str, float] = {}

    async def restart_broker() -> None:
        await stack.stop_kafka()  # returns once the broker process has exited
        window["down_from"] = time.monotonic()
        poster = DirectPoster(stack, driver)
        poster.start()
        await asyncio.sleep(8)  # the outage: the broker stays down while webhooks arrive
        await poster.stop()
        window["down_until"] = time.monotonic()
        await stack.start_kafka()
        answers.extend(await poster.answers())

    outcome = await run_under_fault(stack, "kafka-restart", restart_broker, driver=driver)

    while_down = [a for a in answers if window["down_from"] <= a.answered_at <= window["down_until"]]
    record(stack, f"  direct posts: {statuses(answers)}, answered while down: {statuses(while_down)}")
    assert not [a for a in while_down if a.status is not None and a.status < 500], while_down
    raw = {r.key for r in stack.published.on(stack.topics.webhooks_raw)}
    acked = [a for a in answers if a.status == 200]
    assert [a for a in acked if f"revenuecat:{a.event_id}".encode() not in raw] == [], "200 without the ack"
    outcome.settled.figures.assert_clean()


@pytest.mark.timeout(600)
async def test_postgres_down_webhooks_still_acknowledged_nothing_dead_lettered(stack: FaultStack) -> None:
    driver = driver_for(stack, "postgres-stop")
    valid: list[DirectAnswer] = []
    badly_signed: list[DirectAnswer] = []

    window: dict[str, float] = {}

    async def stop_postgres() -> None:
        await stack.stop_postgres()
        posters = [
            DirectPoster(stack, driver),
            DirectPoster(stack, driver, every_s=2.0, authorization="Bearer forged"),
        ]
        for poster in posters:
            poster.start()
        await asyncio.sleep(8)  # posting for 8 of the ≥ 10 s without PostgreSQL
        for poster in posters:
            await poster.stop()
        await asyncio.sleep(2)  # ≥ 10 s down in all
        for poster in posters:  # PostgreSQL stays down until they are answered (or 30 s passed)
            await poster.wait_answered(timeout_s=30)
        window["up"] = time.monotonic()
        await stack.start_postgres()
        valid.extend(await posters[0].answers())
        badly_signed.extend(await posters[1].answers())

    outcome = await run_under_fault(stack, "postgres-stop", stop_postgres, driver=driver)

    def while_down(answers: list[DirectAnswer]) -> dict[str, int]:
        return statuses([a for a in answers if a.answered_at < window["up"]])

    record(
        stack,
        f"  direct posts: valid {statuses(valid)} ({while_down(valid)} answered while down), "
        f"badly signed {statuses(badly_signed)} ({while_down(badly_signed)} while down)",
    )
    assert [(a.status, a.answered_at < window["up"]) for a in valid] == [(200, True)] * len(valid), [
        a.body[:200] for a in valid if a.status != 200
    ][:3]
    assert [(a.status, a.answered_at < window["up"]) for a in badly_signed] == [(401, True)] * len(
        badly_signed
    )
    outcome.settled.figures.assert_clean()


async def active_keys(stack: FaultStack, prefix: str) -> set[tuple[str, str, str]]:
    return {key for key, (status, _) in (await ledger_of(stack, prefix)).items() if status == "active"}


async def active_customers(stack: FaultStack, driver: LoadDriver, count: int) -> list[tuple[str, str]]:
    """``count`` RevenueCat customers who bought a product and whose entitlement is active."""
    bought = []
    for _ in range(count):
        app_user_id, product = f"rc_{driver.load.user_id('rc')}", sorted(stack.packs.revenuecat)[0]
        driver.load.revenuecat_customers[app_user_id] = product
        driver.load.reserved_customers.add(app_user_id)  # a renewal by the load would undo its refund
        await driver.simulate("purchase", app_user_id, product)
        bought.append((app_user_id, product))
    deadline = time.monotonic() + 120
    wanted = {(a.removeprefix("rc_"), "revenuecat", p) for a, p in bought}
    while not wanted <= await active_keys(stack, driver.load.prefix):
        assert time.monotonic() < deadline, "purchases before the fault were not applied"
        await asyncio.sleep(0.2)
    return bought


async def feature_answer(stack: FaultStack, app_user_id: str, product: str) -> tuple[int | None, bool | None]:
    """(HTTP status, allowed) of the feature check a downstream service would make; (None, None) when
    no answer came within 30 s."""
    feature = stack.packs.revenuecat[product].features[0]
    user = app_user_id.removeprefix("rc_")
    try:
        response = await stack.http.get(
            f"{stack.gateway_url}/v1/users/{user}/features/{feature}",
            headers={"X-API-Key": stack.api_key},
            timeout=30,
        )
    except httpx.HTTPError:
        return None, None
    allowed = response.json().get("allowed") if response.status_code == 200 else None
    return response.status_code, allowed


@pytest.mark.timeout(600)
async def test_redis_down_features_answer_from_postgres_and_no_revoked_user_stays_allowed(
    stack: FaultStack,
) -> None:
    driver = driver_for(stack, "redis-stop")
    revoked_during = await active_customers(stack, driver, 4)
    revoked_after = await active_customers(stack, driver, 4)
    for app_user_id, product in revoked_during + revoked_after:
        assert await feature_answer(stack, app_user_id, product) == (200, True)  # now cached
    during: list[tuple[int | None, bool | None]] = []
    direct: list[DirectAnswer] = []
    window: dict[str, float] = {}

    async def stop_redis() -> None:
        await stack.stop_redis()
        poster = DirectPoster(stack, driver)
        poster.start()
        for app_user_id, product in revoked_during:
            during.append(await feature_answer(stack, app_user_id, product))
            await driver.simulate("refund", app_user_id, product)
        await asyncio.sleep(10)  # Redis stays down
        await poster.stop()
        await poster.wait_answered(timeout_s=30)  # still down until they are answered (or 30 s)
        window["up"] = time.monotonic()
        await stack.start_redis()
        direct.extend(await poster.answers())
        for app_user_id, product in revoked_after:  # cached again, then refunded
            during.append(await feature_answer(stack, app_user_id, product))
            await driver.simulate("refund", app_user_id, product)

    outcome = await run_under_fault(stack, "redis-stop", stop_redis, driver=driver)

    after = [await feature_answer(stack, a, p) for a, p in revoked_during + revoked_after]
    record(stack, f"  webhooks while down: {statuses(direct)}; feature checks {during} then {after}")
    assert [(a.status, a.answered_at < window["up"]) for a in direct] == [(200, True)] * len(direct)
    assert during == [(200, True)] * len(during)
    assert after == [(200, False)] * len(after), "a refunded user is still allowed"
    outcome.settled.figures.assert_clean()


async def relay_locks(stack: FaultStack) -> list[tuple[bool, str | None]]:
    """(granted, backend state) of every session holding or awaiting the relay's advisory lock."""
    conn = await asyncpg.connect(stack.pg_dsn)
    try:
        rows = await conn.fetch(
            """SELECT l.granted, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = $1
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
            RELAY_LOCK_KEY,
        )
    finally:
        await conn.close()
    return [(row["granted"], row["state"]) for row in rows]


@pytest.mark.timeout(600)
async def test_relay_failing_mid_publish_resumes_and_leaves_no_lock_behind(stack: FaultStack) -> None:
    async def redis_blip() -> None:
        await stack.stop_redis()  # the relay's cache invalidation raises before it publishes
        await asyncio.sleep(4)
        await stack.start_redis()

    outcome = await run_under_fault(stack, "relay-raises", redis_blip)

    locks = await relay_locks(stack)
    record(stack, f"  relay advisory lock after recovery (granted, state): {locks}")
    assert [lock for lock in locks if not lock[0]] == [], "a relay waits for the lock"
    assert [lock for lock in locks if lock == (True, "idle")] == [], "an idle connection holds the lock"
    outcome.settled.figures.assert_clean()
