"""Handlers: one event from the telemetry topic or the entitlements topic, rolled up exactly once.

Each runs inside one unit of work: the event's id is claimed (``telemetry_processed_events``) in the
same transaction that adds its counts, so a redelivery or a replay of the topic adds nothing.
"""

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.telemetry.rollups import (
    ENTITLEMENT_METRICS,
    counted_of_entitlement,
    counted_of_telemetry,
    latencies_of_telemetry,
    received_at_of,
    webhook_to_entitlement,
)
from services.telemetry.store import add_counts, add_latencies, claim_event, paid_for, pair_latency
from shared.messaging.telemetry import Pseudonyms, TelemetryEvent, TelemetryType
from shared.observability.telemetry_metrics import TELEMETRY_ROLLED_UP


def entitlement_event_of(value: bytes) -> dict[str, Any]:
    """An entitlement CloudEvent (docs/events.md); ``ValueError`` when the record is not one."""
    event = orjson.loads(value)
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise ValueError("not an entitlement CloudEvent")
    for field in ("id", "type", "time"):
        if not isinstance(event.get(field), str):
            raise ValueError(f"entitlement CloudEvent without {field}")
    return event


def moment_of(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)


async def roll_up_telemetry(session: AsyncSession, event: TelemetryEvent) -> bool:
    """Add one telemetry event; False when its id was counted before."""
    if not await claim_event(session, f"telemetry:{event.id}"):
        return False
    await add_counts(session, counted_of_telemetry(event))
    await add_latencies(session, latencies_of_telemetry(event))
    received_at_ms = event.data.get("receivedAtMs")
    keys = event.data.get("keys")
    if (
        event.type is TelemetryType.WEBHOOK_CONFIRMED
        and isinstance(received_at_ms, int)
        and isinstance(keys, list)
    ):
        received = received_at_of(received_at_ms)
        provider = str(event.data.get("provider") or "")
        for key in keys:
            await _sample(session, await pair_latency(session, key, provider, received_at=received), provider)
    TELEMETRY_ROLLED_UP.labels(event.type.value).inc()
    return True


async def roll_up_entitlement(session: AsyncSession, pseudonyms: Pseudonyms, event: dict[str, Any]) -> bool:
    """Add one entitlement CloudEvent (and the paid step it completes); False when counted before."""
    if not await claim_event(session, f"entitlements:{event['id']}"):
        return False
    moment, data = moment_of(event), event["data"]
    activated = event["type"] == "entitlement.activated"
    paid = await paid_for(session, data, moment) if activated else None
    await add_counts(session, counted_of_entitlement(event, moment, paid))
    provider_event_id = data.get("provider_event_id")
    if event["type"] in ENTITLEMENT_METRICS and isinstance(provider_event_id, str):
        provider = str(data.get("source_provider") or "")
        key = await pseudonyms.of(provider_event_id)  # as webhook_ingest keyed the delivery's updates
        await _sample(session, await pair_latency(session, key, provider, committed_at=moment), provider)
    TELEMETRY_ROLLED_UP.labels(str(event["type"])).inc()
    return True


async def _sample(session: AsyncSession, pair: tuple[datetime, datetime] | None, provider: str) -> None:
    if pair is None:
        return
    await add_latencies(session, [webhook_to_entitlement(*pair, provider)])
