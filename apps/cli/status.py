"""``billing status``: is the stack up, and is anything piling up?

Services (the gateway's readiness, each consumer group's members), consumer lag per group,
dead letters waiting per topic, the outbox's backlog and each provider's last catalog sync, as
tables. Exit 1 when a service is down or a figure could not be read, so a script can act on it.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from shared.bootstrap import command_runtime
from shared.connectors.registry import configured_providers
from shared.db.operational_reads import LastCatalogSync, OutboxBacklog, last_catalog_syncs, outbox_backlog
from shared.messaging.backlog import GroupState, KafkaBacklog
from shared.messaging.topics import Topics
from shared.settings import Settings, get_settings

READ_TIMEOUT_S = 10.0
WIDTH_OFF_TERMINAL = 160


@dataclass(frozen=True)
class StackStatus:
    gateway_up: bool  # /readyz answered 200 (ready, or degraded: Redis down, every route still answers)
    gateway: str  # what it answered, or why it did not
    groups: list[GroupState]
    dead_letters: dict[str, int]
    outbox: OutboxBacklog
    catalog_syncs: list[LastCatalogSync]

    @property
    def healthy(self) -> bool:
        return self.gateway_up and all(g.members for g in self.groups)


def status() -> None:
    """Services up, consumer lag, dead letters waiting, outbox backlog, last catalog sync."""
    plain = Console()
    # Not on a terminal (a script, a pipe): wide enough that no group or topic name is cut short.
    console = plain if plain.is_terminal else Console(width=max(plain.width, WIDTH_OFF_TERMINAL))
    found = asyncio.run(read_status(get_settings()))
    print_status(console, found)
    if not found.healthy:
        raise typer.Exit(1)


def consumer_groups(settings: Settings) -> dict[str, str]:
    """Each service's consumer group and the topic it reads (ingest has one group per provider)."""
    topics = Topics(settings.namespace)
    ingest = {
        topics.group(f"webhook-ingest-{provider.value}"): topics.webhooks_raw
        for provider in configured_providers(settings)
    }
    return ingest | {
        topics.group("entitlement-worker"): topics.entitlement_updates,
        topics.group("catalog-sync"): topics.catalog_changes,
    }


async def read_status(settings: Settings) -> StackStatus:
    topics = Topics(settings.namespace)
    async with asyncio.timeout(READ_TIMEOUT_S), KafkaBacklog(settings.kafka_bootstrap) as kafka:
        groups = await kafka.groups(consumer_groups(settings))
        replay_group = topics.group("dlq-replay")
        dead_letters = {t: await kafka.waiting(t, replay_group) for t in topics.dead_letter_topics()}
    async with command_runtime(settings) as runtime, runtime.sessions() as session:
        outbox = await outbox_backlog(session)
        syncs = await last_catalog_syncs(session)
    return StackStatus(*await _gateway(settings), groups, dead_letters, outbox, syncs)


async def _gateway(settings: Settings) -> tuple[bool, str]:
    url = f"http://{settings.gateway_host}:{settings.gateway_port}/readyz"
    try:
        async with httpx.AsyncClient(timeout=3.0) as http:
            answer = await http.get(url)
    except httpx.HTTPError as exc:
        return False, f"{url}: {type(exc).__name__}"
    try:
        said = ", ".join(f"{k}={v}" for k, v in answer.json().items())
    except ValueError:
        said = answer.text[:80]
    return answer.status_code == 200, f"{answer.status_code} {said}"


def print_status(console: Console, found: StackStatus) -> None:
    services = _table("service", "state", "detail")
    services.add_row("gateway", _mark(found.gateway_up), found.gateway)
    for group in found.groups:
        services.add_row(group.group, _mark(group.members > 0), f"{group.members} member(s), {group.state}")
    console.print(services)

    lag = _table("consumer group", "topic", "lag")
    for group in found.groups:
        lag.add_row(group.group, group.topic, str(group.lag))
    console.print(lag)

    letters = _table("dead-letter topic", "waiting")
    for topic, waiting in found.dead_letters.items():
        letters.add_row(topic, str(waiting))
    console.print(letters)

    oldest = found.outbox.oldest_created_at
    age = f"{(datetime.now(UTC) - oldest).total_seconds():.0f}s" if oldest else "-"
    outbox = _table("outbox unpublished", "oldest age")
    outbox.add_row(str(found.outbox.unpublished), age)
    console.print(outbox)

    syncs = _table("catalog sync", "status", "trigger", "finished", "failed pushes")
    for sync in found.catalog_syncs:
        syncs.add_row(
            sync.provider,
            sync.status,
            sync.trigger,
            f"{sync.finished_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z",
            str(sync.failed),
        )
    if not found.catalog_syncs:
        syncs.add_row("-", "never ran", "", "", "")
    console.print(syncs)


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column)
    return table


def _mark(up: bool) -> str:
    return "up" if up else "DOWN"
