"""catalog_sync's scheduled ledger check: ``billing reconcile`` every ``reconcile_interval_s``.

It reports (log line, ``billing_ledger_drift`` gauge) and fixes only with ``reconcile_auto_fix``.
"""

import asyncio

import structlog

from shared.bootstrap import Runtime
from shared.ledger_reconciliation import export_drift_gauge, plan_reconciliation, reconcile_ledger

log = structlog.get_logger(__name__)


async def check_ledger_once(runtime: Runtime) -> None:
    plan = await plan_reconciliation(runtime)
    report = await reconcile_ledger(runtime, plan, fix=runtime.settings.reconcile_auto_fix)
    export_drift_gauge(report, list(plan))


async def check_ledger_forever(runtime: Runtime) -> None:
    """One check per interval, the first one interval after start (a restart loop scans nothing twice);
    a failed check is logged and the next one tries again."""
    while True:
        await asyncio.sleep(runtime.settings.reconcile_interval_s)
        try:
            await check_ledger_once(runtime)
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database is down
            log.exception("ledger_check_failed")
