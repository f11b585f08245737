"""``billing reconcile``: the ledger against each provider's truth, as a drift report (``--fix`` enqueues
the corrections through the normal pipeline; see shared/ledger_reconciliation.py)."""

import asyncio
import uuid
from datetime import datetime

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import select

from shared.bootstrap import command_runtime
from shared.db.models import BillingCatalog
from shared.domain.entitlements import EntitlementStatus
from shared.domain.provider import Provider
from shared.domain.reconciliation import Drift, DriftKind
from shared.ledger_reconciliation import ReconcileReport, plan_reconciliation, reconcile_ledger
from shared.settings import get_settings

# exit codes a script can act on
NO_DRIFT, DRIFT_FOUND, TRUTH_UNREAD = 0, 1, 2


def reconcile(
    user: list[str] = typer.Option([], "--user", help="Check only this user (repeatable)."),  # noqa: B008
    fix: bool = typer.Option(False, "--fix", help="Enqueue the corrective updates."),
) -> None:
    """Compare the ledger with every provider's truth and print the drift (missing, extra, wrong
    status, wrong expiry). Exit 0: no drift (or all of it enqueued with --fix); 1: drift; 2: a
    provider could not be read for some user."""
    console = Console()
    report, packs = asyncio.run(_run(console, user, fix))
    _print_report(console, report, packs, fix)
    if report.unread:
        raise typer.Exit(TRUTH_UNREAD)
    if report.drifts and not fix:
        raise typer.Exit(DRIFT_FOUND)


async def _run(console: Console, users: list[str], fix: bool) -> tuple[ReconcileReport, dict[uuid.UUID, str]]:
    async with command_runtime(get_settings(), producer=fix) as runtime:
        plan = await plan_reconciliation(runtime, users)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        # Off a terminal (a script): no bar at all, not even the blank lines a transient one leaves.
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
            tasks = {p: progress.add_task(f"{p.value:<11}", total=len(u)) for p, u in plan.items()}
            report = await reconcile_ledger(
                runtime, plan, fix=fix, on_user_checked=lambda p, _: progress.advance(tasks[p])
            )
        async with runtime.sessions() as session:
            rows = await session.execute(select(BillingCatalog.id, BillingCatalog.slug))
            packs = {pack_id: slug for pack_id, slug in rows}
    return report, packs


def _print_report(console: Console, report: ReconcileReport, packs: dict[uuid.UUID, str], fix: bool) -> None:
    checked = ", ".join(f"{n} {p.value} user(s)" for p, n in report.checked.items()) or "nobody"
    console.print(f"checked {checked}")
    for provider in report.checked:
        drifts = [d for d in report.drifts if d.provider is provider]
        if drifts:
            console.print(_drift_table(provider, drifts, packs))
    for unread in report.unread:
        console.print(f"[red]unread[/red] {unread.provider.value} {unread.user_id}: {unread.error}")
    counts = report.counts()
    for provider in report.checked:
        found = ", ".join(f"{k.value} {counts[(provider, k)]}" for k in DriftKind if counts[(provider, k)])
        console.print(f"{provider.value}: {found or 'no drift'}")
    if fix:
        console.print(f"published {report.published} corrective update(s) to the entitlement-updates topic")


def _drift_table(provider: Provider, drifts: list[Drift], packs: dict[uuid.UUID, str]) -> Table:
    table = Table(title=f"{provider.value} drift", box=box.SIMPLE_HEAD, title_justify="left")
    for name in ("kind", "user"):
        table.add_column(name, no_wrap=True)
    table.add_column("pack", overflow="ellipsis", min_width=12)
    table.add_column("reference", overflow="ellipsis", min_width=12)
    table.add_column("ledger", no_wrap=True)
    table.add_column("provider says", no_wrap=True)
    for drift in drifts:
        table.add_row(
            drift.kind.value,
            drift.key.user_id,
            packs.get(drift.key.catalog_id, str(drift.key.catalog_id)),
            drift.key.purchase_reference,
            _ledger_side(drift),
            _provider_side(drift),
        )
    return table


def _ledger_side(drift: Drift) -> str:
    row = drift.ledger
    return "-" if row is None else _state(row.status, row.expires_at)


def _provider_side(drift: Drift) -> str:
    fact = drift.truth
    if fact is None:
        return "unknown"
    return _state(fact.status, fact.expires_at)


def _state(status: EntitlementStatus, expires_at: datetime | None) -> str:
    if status is not EntitlementStatus.ACTIVE:
        return status.value
    return f"active to {expires_at:%Y-%m-%d %H:%M}" if expires_at else "active, no end"
