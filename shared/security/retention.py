"""The retention job: purge raw webhook payloads and audit details older than their periods, and
delete spent rows (published outbox rows, old dedupe claims: shared/db/pruning.py).

Rows with payloads stay (their ids keep deduplicating redeliveries; the audit chain stays
verifiable); only the raw bodies and free-form details go. Each run is audited with what it removed.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.core_settings import CoreSettings
from shared.db.audit_log import append_audit
from shared.db.pruning import ProviderDedupeRows, SpentRowRetention, prune_spent_rows, table_exists
from shared.db.unit_of_work import unit_of_work
from shared.domain.audit import AuditEntry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RawPayloadColumn:
    table: str
    payload_column: str
    received_column: str


@dataclass(frozen=True)
class RetentionReport:
    raw_payload_cutoff: datetime
    audit_details_cutoff: datetime
    purged: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.purged.values())


async def run_retention(
    session: AsyncSession,
    raw_payloads: Sequence[RawPayloadColumn],
    raw_payload_days: int,
    audit_details_days: int,
    actor: str,
    now: datetime | None = None,
    spent_rows: SpentRowRetention | None = None,
) -> RetentionReport:
    """Purge inside the caller's transaction; returns how many rows lost their payload, per place."""
    now = now or datetime.now(UTC)
    raw_cutoff = now - timedelta(days=raw_payload_days)
    audit_cutoff = now - timedelta(days=audit_details_days)
    purged: dict[str, int] = {}
    for place in raw_payloads:
        if not await table_exists(session, place.table):
            continue
        result = await session.execute(
            text(
                f"UPDATE {place.table} SET {place.payload_column} = '{{}}'::jsonb "  # noqa: S608
                f"WHERE {place.received_column} < :cutoff AND {place.payload_column} <> '{{}}'::jsonb"
            ),
            {"cutoff": raw_cutoff},
        )
        purged[f"{place.table}.{place.payload_column}"] = result.rowcount  # type: ignore[attr-defined]
    audit = await session.execute(
        text(
            "UPDATE audit_log SET details = NULL, details_purged_at = now() "
            "WHERE occurred_at < :cutoff AND details IS NOT NULL"
        ),
        {"cutoff": audit_cutoff},
    )
    purged["audit_log.details"] = audit.rowcount  # type: ignore[attr-defined]
    if spent_rows is not None:
        purged |= await prune_spent_rows(session, spent_rows, now)
    report = RetentionReport(raw_cutoff, audit_cutoff, purged)
    await append_audit(
        session,
        AuditEntry(
            actor=actor,
            event="retention.run",
            subject="retention",
            details={
                "raw_payload_cutoff": raw_cutoff.isoformat(),
                "audit_details_cutoff": audit_cutoff.isoformat(),
                "purged": purged,
            },
        ),
    )
    return report


# pg_try_advisory_xact_lock key: one replica runs the job at a time ("retent" in ASCII).
RETENTION_LOCK = 0x726574656E74


class RetentionSchedule:
    """Runs the retention job at start and then every ``settings.retention_interval_s`` (worker)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: CoreSettings,
        raw_payloads: Sequence[RawPayloadColumn],
        provider_dedupe: Sequence[ProviderDedupeRows] = (),
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._raw_payloads = raw_payloads
        self._provider_dedupe = provider_dedupe

    async def run_once(self) -> RetentionReport | None:
        """One pass; None when another replica holds the job's lock."""
        async with unit_of_work(self._sessions) as session:
            locked = await session.execute(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RETENTION_LOCK}
            )
            if not locked.scalar_one():
                return None
            return await run_retention(
                session,
                self._raw_payloads,
                self._settings.raw_payload_retention_days,
                self._settings.audit_details_retention_days,
                actor="service:entitlement-worker",
                spent_rows=SpentRowRetention.from_settings(self._settings, self._provider_dedupe),
            )

    async def run_forever(self) -> None:
        while True:
            try:
                report = await self.run_once()
                if report is not None:
                    log.info("retention_run", purged=report.purged, total=report.total)
            except Exception:
                # A failed pass (database away) is retried at the next interval, never fatal.
                log.exception("retention_run_failed")
            await asyncio.sleep(self._settings.retention_interval_s)
