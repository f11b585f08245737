"""``billing history USER``: the user's entitlement timeline, one line per update we took in."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import typer

from shared.bootstrap import command_runtime
from shared.db.entitlement_history import user_timeline
from shared.db.history_models import EntitlementHistory
from shared.settings import get_settings

HEADER = ("OCCURRED (provider)", "RECORDED (ours)", "PACK", "STATUS", "EXPIRES", "PROVIDER", "EVENT", "NOTE")


def history(user_id: str) -> None:
    """Print USER's entitlement timeline in the order things happened at the provider."""
    rows = asyncio.run(_timeline(user_id))
    if not rows:
        typer.echo(f"no history for {user_id}")
        raise typer.Exit(1)
    for line in timeline_lines(rows):
        typer.echo(line)


async def _timeline(user_id: str) -> list[tuple[EntitlementHistory, str]]:
    async with command_runtime(get_settings()) as runtime, runtime.sessions() as session:
        return await user_timeline(session, user_id)


def timeline_lines(rows: Sequence[tuple[EntitlementHistory, str]]) -> list[str]:
    """The rows as plain text columns aligned under ``HEADER``."""
    table = [HEADER, *(_cells(row, slug) for row, slug in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table]


def _cells(row: EntitlementHistory, pack_slug: str) -> tuple[str, ...]:
    event = f"{row.provider_event_type} {row.provider_event_id or ''}".rstrip()
    if row.provider_event_id is None:
        note = "from the ledger (before history)"
    elif not row.applied:
        note = "late: changed the past only"
    else:
        note = row.announced or ""
    return (
        _time(row.occurred_at), _time(row.recorded_at), pack_slug, row.status, _time(row.expires_at),
        row.source_provider, event, note,
    )  # fmt: skip


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"
