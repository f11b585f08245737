"""``billing reconcile``: read each provider's truth for the users it sold to, compare, and optionally fix.

The comparison is the domain's (``shared/domain/reconciliation.py``); each provider reads its own
truth (``ProviderPlugin.truth_for``). A fix is never a ledger write: the corrective updates go to
``billing.entitlement-updates`` on the user's partition and the worker applies them with its usual
dedupe and ordering, announcing what changed. The command and catalog_sync's schedule both run this.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from shared.bootstrap import Runtime
from shared.db.reconciliation_reads import landings, ledger_entries, users_to_reconcile
from shared.domain.errors import ProviderError
from shared.domain.provider import Provider
from shared.domain.reconciliation import Drift, DriftKind, corrections, find_drift
from shared.observability.metrics import LEDGER_DRIFT

log = structlog.get_logger(__name__)

# which users each provider is checked for
ReconcilePlan = dict[Provider, list[str]]


@dataclass(frozen=True)
class UnreadTruth:
    provider: Provider
    user_id: str
    error: str


@dataclass
class ReconcileReport:
    drifts: list[Drift] = field(default_factory=list)
    checked: Counter[Provider] = field(default_factory=Counter)
    unread: list[UnreadTruth] = field(default_factory=list)
    published: int = 0

    def counts(self) -> Counter[tuple[Provider, DriftKind]]:
        return Counter((d.provider, d.kind) for d in self.drifts)


async def plan_reconciliation(runtime: Runtime, user_ids: Sequence[str] | None = None) -> ReconcilePlan:
    """Every configured provider, for ``user_ids`` or every user with a purchase from it: those our
    side knows (entitlements, checkouts) and those the provider lists as its customers."""
    plan: ReconcilePlan = {}
    for provider, plugin in runtime.providers.items():
        if user_ids:
            plan[provider] = list(user_ids)
            continue
        async with runtime.sessions() as session:
            ours = await users_to_reconcile(session, provider)
        theirs = await plugin.customers(runtime.connectors[provider], runtime.provider_resources)
        plan[provider] = sorted({*ours, *theirs})
    return plan


async def reconcile_ledger(
    runtime: Runtime,
    plan: ReconcilePlan,
    *,
    fix: bool = False,
    on_user_checked: Callable[[Provider, str], None] = lambda provider, user: None,
) -> ReconcileReport:
    """Compare every planned user's ledger with the provider; with ``fix``, publish the corrections.

    A user whose truth cannot be read (the provider is down) is reported as unread, never as drift.
    """
    report = ReconcileReport()
    for provider, users in plan.items():
        for user_id in users:
            try:
                report.drifts += await _user_drift(runtime, provider, user_id)
                report.checked[provider] += 1
            except ProviderError as exc:
                report.unread.append(UnreadTruth(provider, user_id, str(exc)))
                log.warning("reconcile_unread", provider=provider.value, user_id=user_id, error=str(exc))
            on_user_checked(provider, user_id)
    if fix and report.drifts:
        updates = corrections(report.drifts)
        await runtime.updates.publish(updates)
        report.published = len(updates)
    log.info(
        "ledger_reconciled",
        checked={p.value: n for p, n in report.checked.items()},
        drift={f"{p.value}:{k.value}": n for (p, k), n in report.counts().items()},
        unread=len(report.unread),
        published=report.published,
    )
    return report


def export_drift_gauge(report: ReconcileReport, providers: Sequence[Provider]) -> None:
    """``billing_ledger_drift{provider,kind}`` from a full run: every pair set, zero included."""
    counts = report.counts()
    for provider in providers:
        for kind in DriftKind:
            LEDGER_DRIFT.labels(provider=provider.value, kind=kind.value).set(counts[(provider, kind)])


async def _user_drift(runtime: Runtime, provider: Provider, user_id: str) -> list[Drift]:
    plugin, connector = runtime.providers[provider], runtime.connectors[provider]
    truth = await plugin.truth_for(user_id, connector, runtime.provider_resources)
    async with runtime.sessions() as session:
        ledger = await ledger_entries(session, provider, user_id)
        reached = await landings(
            session, provider, user_id, {(t.provider_product_id, t.purchase_reference) for t in truth}
        )
    return find_drift(provider, ledger, truth, reached)
