"""The retention job: purge raw webhook payloads and audit details older than their periods.

Rows stay (their ids keep deduplicating redeliveries; the audit chain stays verifiable); only the
raw bodies and free-form details go. Each run is itself audited with what it removed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.security.audit import AuditEntry, append_audit


@dataclass(frozen=True)
class RawPayloadColumn:
    table: str
    payload_column: str
    received_column: str


RAW_PAYLOADS: tuple[RawPayloadColumn, ...] = (
    RawPayloadColumn("revenuecat_unapplied_events", "payload", "received_at"),
    RawPayloadColumn("lightning_deliveries", "detail", "received_at"),
)


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
    raw_payload_days: int,
    audit_details_days: int,
    actor: str,
    now: datetime | None = None,
) -> RetentionReport:
    """Purge inside the caller's transaction; returns how many rows lost their payload, per place."""
    now = now or datetime.now(UTC)
    raw_cutoff = now - timedelta(days=raw_payload_days)
    audit_cutoff = now - timedelta(days=audit_details_days)
    purged: dict[str, int] = {}
    for place in RAW_PAYLOADS:
        present = await session.execute(
            text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"public.{place.table}"}
        )
        if not present.scalar_one():
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
