"""Scenarios 1-3 and 8: a service process dies (SIGKILL) under load and is started again.

Nothing the providers confirmed may be lost or applied twice, nothing dead-lettered, and every
webhook is eventually answered 200 (the sandboxes retry what got no answer).
"""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.infra.fault_scenarios import run_under_fault
from tests.infra.fault_stack import FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]
OUTAGE_S = 3.0  # how long the killed process stays dead before it is started again


def kill_and_restart(stack: FaultStack, service: str) -> Callable[[], Awaitable[None]]:
    async def fault() -> None:
        await stack.kill_service(service)
        await asyncio.sleep(OUTAGE_S)  # the outage itself: load keeps arriving meanwhile
        await stack.start_service(service)

    return fault


@pytest.mark.timeout(600)
async def test_worker_sigkilled_mid_batch_loses_and_duplicates_nothing(stack: FaultStack) -> None:
    outcome = await run_under_fault(stack, "worker-sigkill", kill_and_restart(stack, "worker"))
    outcome.settled.figures.assert_clean()


@pytest.mark.timeout(600)
async def test_ingest_sigkilled_loses_and_duplicates_nothing(stack: FaultStack) -> None:
    outcome = await run_under_fault(stack, "ingest-sigkill", kill_and_restart(stack, "ingest"))
    outcome.settled.figures.assert_clean()


@pytest.mark.timeout(600)
async def test_gateway_sigkilled_webhooks_are_redelivered_and_land_once(stack: FaultStack) -> None:
    outcome = await run_under_fault(stack, "gateway-sigkill", kill_and_restart(stack, "gateway"))
    outcome.settled.figures.assert_clean()


async def stable_members(stack: FaultStack, group: str) -> int:
    """Members of the consumer group once it is Stable (0 while it is rebalancing)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    _, _, state, _, _, members = description.groups[0]
    return len(members) if state == "Stable" else 0


@pytest.mark.timeout(600)
async def test_second_worker_joins_then_first_is_sigkilled_rebalance_loses_nothing(
    stack: FaultStack,
) -> None:
    group = stack.topics.group("entitlement-worker")

    async def rebalance() -> None:
        await stack.start_service("worker-2")
        deadline = asyncio.get_running_loop().time() + 180
        while await stable_members(stack, group) < 2:  # the new member holds partitions now
            assert asyncio.get_running_loop().time() < deadline, "worker-2 never joined the group"
            await asyncio.sleep(0.25)
        await asyncio.sleep(OUTAGE_S)  # both share the load for a while
        await stack.kill_service("worker")

    outcome = await run_under_fault(stack, "two-workers-rebalance", rebalance, at_s=4.0)
    outcome.settled.figures.assert_clean()
