"""``billing dlq``: list and replay dead letters."""

import asyncio

import typer

from apps.cli.progress import counted
from shared.messaging.backlog import KafkaBacklog
from shared.messaging.dead_letters import read_dead_letters, replay_dead_letters
from shared.messaging.topics import Topics
from shared.settings import get_settings

dlq_app = typer.Typer(
    help="Dead letters: list them, replay them after fixing the cause", no_args_is_help=True
)


def _topic(name: str) -> str:
    """Accept a short name (``entitlement-updates``) or a full topic name."""
    topics = Topics(get_settings().namespace)
    short = {
        "webhooks.raw": topics.webhooks_raw,
        "entitlement-updates": topics.entitlement_updates,
        "catalog.changes": topics.catalog_changes,
    }
    return short.get(name, name)


@dlq_app.command("list")
def list_letters(topic: str, limit: int = 50) -> None:
    """Print the dead letters of TOPIC with their errors."""
    letters = asyncio.run(read_dead_letters(get_settings().kafka_bootstrap, _topic(topic), limit))
    for letter in letters:
        key = (letter.key or b"").decode(errors="replace")
        typer.echo(f"{letter.partition}:{letter.offset}\tkey={key}\t{letter.error}")
    typer.echo(f"{len(letters)} dead letter(s)")


@dlq_app.command("replay")
def replay(topic: str) -> None:
    """Re-publish TOPIC's dead letters (each once) to TOPIC."""
    settings = get_settings()
    full = _topic(topic)
    count = asyncio.run(
        _replay(settings.kafka_bootstrap, full, Topics(settings.namespace).group("dlq-replay"))
    )
    typer.echo(f"replayed {count} dead letter(s) to {full}")


async def _replay(bootstrap: str, topic: str, group: str) -> int:
    async with KafkaBacklog(bootstrap) as kafka:  # the bar's length: what the replay group has not replayed
        waiting = await kafka.waiting(Topics.dead_letters_of(topic), group)
    with counted(f"replaying {Topics.dead_letters_of(topic)}", waiting) as replayed_one:
        return await replay_dead_letters(bootstrap, topic, group, on_replayed=replayed_one)
