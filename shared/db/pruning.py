"""Deleting rows that have done their job, so the hot tables stay small.

- ``outbox`` rows once published (the relay only reads unpublished ones; a week is kept for
  operators tracing an event);
- ``processed_events`` claims older than any provider's redelivery window (RevenueCat retries
  for hours, BTCPay on demand): a redelivery after that is older than the entitlement's state, so
  the ledger's rule already makes it change nothing (shared/domain/ledger.py);
- ``idempotency_keys`` past their day (services/gateway/idempotency.py forgets them then anyway);
- the telemetry consumer's claims (``telemetry_processed_events``) and latency pairs, by the same
  rule and retention as ``processed_events`` (a redelivery is claimed before its pair is touched);
- a provider's own dedupe rows (``ProviderDedupeRows``, e.g. ``lightning_deliveries``), by the same
  rule and retention as ``processed_events``.

Deletes go in chunks so one pass never holds many row locks at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.core_settings import CoreSettings

CHUNK = 5000
# (table, the timestamp that ages a row, an extra condition, its key columns)
_SPENT = {
    "outbox": ("published_at", "published_at IS NOT NULL", "id"),
    "processed_events": ("processed_at", "TRUE", "provider, provider_event_id"),
    "idempotency_keys": ("created_at", "TRUE", "api_key_id, key_hash"),
    "telemetry_processed_events": ("processed_at", "TRUE", "event_key"),
    "telemetry_latency_pairs": ("coalesce(committed_at, received_at)", "TRUE", "update_key"),
}
# Aged like ``processed_events`` (its retention).
_AGED_AS_CLAIMS = ("processed_events", "telemetry_processed_events", "telemetry_latency_pairs")


@dataclass(frozen=True)
class ProviderDedupeRows:
    """A provider's table of deliveries seen (its dedupe record), aged by ``aged_by``, keyed by ``key``."""

    table: str
    aged_by: str
    key: str


@dataclass(frozen=True)
class SpentRowRetention:
    """Days each kind of spent row is kept."""

    outbox: int
    processed_events: int
    idempotency_keys: int
    provider_dedupe: tuple[ProviderDedupeRows, ...] = ()

    @classmethod
    def from_settings(
        cls, settings: CoreSettings, provider_dedupe: Sequence[ProviderDedupeRows] = ()
    ) -> "SpentRowRetention":
        return cls(
            settings.outbox_published_retention_days,
            settings.processed_events_retention_days,
            settings.idempotency_keys_retention_days,
            tuple(provider_dedupe),
        )


async def prune_spent_rows(
    session: AsyncSession, retention: SpentRowRetention, now: datetime
) -> dict[str, int]:
    """Delete spent rows older than their retention, in the caller's transaction; counts per table."""
    days = {"outbox": retention.outbox, "idempotency_keys": retention.idempotency_keys}
    days |= dict.fromkeys(_AGED_AS_CLAIMS, retention.processed_events)
    spent = dict(_SPENT)
    for rows in retention.provider_dedupe:
        if await table_exists(session, rows.table):
            spent[rows.table] = (rows.aged_by, "TRUE", rows.key)
            days[rows.table] = retention.processed_events
    deleted: dict[str, int] = {}
    for table, (aged_by, condition, key) in spent.items():
        cutoff = now - timedelta(days=days[table])
        total = 0
        while True:
            result = await session.execute(
                text(
                    f"DELETE FROM {table} WHERE ({key}) IN ("  # noqa: S608 - names are ours, not input
                    f"SELECT {key} FROM {table} WHERE {condition} AND {aged_by} < :cutoff LIMIT {CHUNK})"
                ),
                {"cutoff": cutoff},
            )
            total += result.rowcount  # type: ignore[attr-defined]
            if result.rowcount < CHUNK:  # type: ignore[attr-defined]
                break
        deleted[f"{table} (deleted)"] = total
    return deleted


async def table_exists(session: AsyncSession, table: str) -> bool:
    """Whether ``table`` exists: a provider's table is there only once its migration ran."""
    found = await session.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"public.{table}"})
    return bool(found.scalar_one())
