"""One reconciliation: each provider's ``sync_catalog`` (read its catalog, compare with ours, push
fixes), then its report recorded."""

from collections.abc import Mapping
from datetime import UTC, datetime

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.base import BillingConnector
from shared.connectors.catalog_push import SyncOutcome
from shared.db.catalog import all_packs
from shared.db.catalog_sync import record_sync_report
from shared.db.unit_of_work import unit_of_work
from shared.domain.provider import Provider

log = structlog.get_logger(__name__)
RECONCILE_LOCK_KEY = 0x6361_7473  # "cats": one catalog reconciliation per database
RUN_LOCK_WAIT_S = 300  # a run waits this long for the one before it (provider calls are bounded)


async def reconcile(
    sessions: async_sessionmaker[AsyncSession],
    connectors: Mapping[Provider, BillingConnector],
    *,
    trigger: str,
    push: bool = True,
) -> list[SyncOutcome]:
    """Every provider once; with ``push`` the fixes are made and a report is stored per provider.

    One reconciliation at a time per database (catalog-sync replicas, ``billing catalog sync``):
    two that push at once would both create what is missing, twice or into a 409.
    """
    async with sessions() as lock_session, lock_session.begin():
        # Held for the whole run; the lock ends with this transaction, whatever happens.
        await lock_session.execute(text(f"SET LOCAL lock_timeout = '{RUN_LOCK_WAIT_S}s'"))
        await lock_session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": RECONCILE_LOCK_KEY})
        return await _reconcile(sessions, connectors, trigger=trigger, push=push)


async def _reconcile(
    sessions: async_sessionmaker[AsyncSession],
    connectors: Mapping[Provider, BillingConnector],
    *,
    trigger: str,
    push: bool,
) -> list[SyncOutcome]:
    async with sessions() as session:
        packs = await all_packs(session)
    outcomes = []
    for connector in connectors.values():
        started_at = datetime.now(UTC)
        outcome = await connector.sync_catalog(packs, push=push)
        if push:
            async with unit_of_work(sessions) as session:
                await record_sync_report(
                    session,
                    provider=outcome.provider,
                    trigger=trigger,
                    status=outcome.status,
                    started_at=started_at,
                    differences=outcome.differences,
                    pushed=outcome.pushed,
                    failed=outcome.failed,
                    error=outcome.error,
                )
        log.info(
            "catalog_sync_report",
            provider=outcome.provider.value,
            trigger=trigger,
            status=outcome.status,
            differences=len(outcome.differences),
            pushed=outcome.pushed,
            failed=outcome.failed,
            error=outcome.error,
        )
        outcomes.append(outcome)
    return outcomes
