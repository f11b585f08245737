"""``billing status`` against the live test stack prints the real figures; long commands stay plain
off a TTY."""

import asyncio
import re
import uuid

from aiokafka import AIOKafkaProducer

from shared.messaging.topics import Topics
from tests.conftest import Stack
from tests.infra.security import billing_cli


def _row(output: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is ``first_cell``."""
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{output}")


async def _poison(stack: Stack, key: bytes) -> None:
    """An entitlement update that does not parse: the worker dead-letters it at once."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(stack.topics.entitlement_updates, b"{not json", key=key)
    finally:
        await producer.stop()


async def _status(stack: Stack) -> str:
    finished = await asyncio.to_thread(billing_cli, stack.settings, "status")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


async def test_status_shows_the_services_up_and_a_poison_message_as_one_more_dead_letter(
    stack: Stack,
) -> None:
    dlq = Topics.dead_letters_of(stack.topics.entitlement_updates)
    before = int(_row(await _status(stack), dlq)[1])

    marker = uuid.uuid4().hex.encode()
    await _poison(stack, marker)
    await stack.published.wait_for(dlq, lambda r: r.key == marker)

    output = await _status(stack)
    assert int(_row(output, dlq)[1]) == before + 1
    assert _row(output, "gateway")[1] == "up"
    worker = stack.topics.group("entitlement-worker")
    assert _row(output, worker)[1] == "up"  # the services table comes first: its row is found first
    unpublished = _row(output, "outbox")  # header row: "outbox unpublished  oldest age"
    assert unpublished[1:] == ["unpublished", "oldest", "age"]
    assert re.search(r"^(lightning|revenuecat)\s+(in_sync|synced|partial|failed)\s", output, re.MULTILINE)
    assert "\x1b[" not in output  # not a terminal: no colours, no live bars


async def test_status_of_a_stack_whose_gateway_is_not_there_says_so_and_fails(stack: Stack) -> None:
    elsewhere = stack.settings.with_values(**{"gateway_port": 9})  # nothing listens on port 9
    finished = await asyncio.to_thread(billing_cli, elsewhere, "status")
    assert finished.returncode == 1
    assert _row(finished.stdout, "gateway")[1] == "DOWN"


async def test_dlq_replay_off_a_terminal_prints_only_its_answer(stack: Stack) -> None:
    marker = uuid.uuid4().hex.encode()
    await _poison(stack, marker)
    await stack.published.wait_for(
        Topics.dead_letters_of(stack.topics.entitlement_updates), lambda r: r.key == marker
    )

    finished = await asyncio.to_thread(billing_cli, stack.settings, "dlq", "replay", "entitlement-updates")

    assert finished.returncode == 0, finished.stderr
    *_log_lines, answer = lines = finished.stdout.splitlines()  # (structlog writes its lines to stdout)
    assert "" not in lines, finished.stdout  # no blank line where a transient bar was
    assert re.fullmatch(
        rf"replayed [1-9]\d* dead letter\(s\) to {re.escape(stack.topics.entitlement_updates)}", answer
    )
    assert "\x1b[" not in finished.stderr and "━" not in finished.stderr
