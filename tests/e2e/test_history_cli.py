"""``billing history USER`` prints the timeline in provider order, late arrivals marked."""

import asyncio
from datetime import UTC, datetime, timedelta

from shared.domain.entitlements import EntitlementStatus
from shared.domain.packs import MicroSaasPack
from tests.conftest import Stack
from tests.infra.history import deliver, update_at
from tests.infra.security import billing_cli

T0 = datetime(2031, 3, 3, tzinfo=UTC)


async def test_history_command_prints_each_transition_in_the_order_it_happened(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack
) -> None:
    pack = subscription_pack
    await deliver(
        stack,
        update_at(
            user_id,
            pack,
            "renewal",
            EntitlementStatus.ACTIVE,
            T0 + timedelta(days=7),
            T0 + timedelta(days=14),
        ),
        update_at(user_id, pack, "purchase", EntitlementStatus.ACTIVE, T0, T0 + timedelta(days=7)),
    )

    finished = await asyncio.to_thread(billing_cli, stack.settings, "history", user_id)

    assert finished.returncode == 0, finished.stderr
    header, *lines = finished.stdout.splitlines()
    assert header.split()[:2] == ["OCCURRED", "(provider)"]
    assert [line.split()[0] for line in lines] == ["2031-03-03T00:00:00Z", "2031-03-10T00:00:00Z"]
    assert f"PURCHASE evt:{user_id}:purchase" in lines[0] and "late: changed the past only" in lines[0]
    assert pack.slug in lines[1] and "entitlement.activated" in lines[1]


async def test_history_command_for_an_unknown_user_says_so_and_fails(stack: Stack, user_id: str) -> None:
    finished = await asyncio.to_thread(billing_cli, stack.settings, "history", user_id)
    assert (finished.returncode, finished.stdout.strip()) == (1, f"no history for {user_id}")
