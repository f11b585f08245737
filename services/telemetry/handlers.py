"""Handlers: a batch of events from the telemetry topic or the entitlements topic, each rolled up once.

Each runs inside one unit of work: the events' ids are claimed (``telemetry_processed_events``) in the
same transaction that adds their counts, so a redelivery or a replay of the topic adds nothing, also
when the same event comes twice in one batch.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.telemetry.rollups import (
    ENTITLEMENT_METRICS,
    Counted,
    LatencySample,
    PairHalf,
    counted_of_entitlement,
    counted_of_telemetry,
    latencies_of_telemetry,
    received_at_of,
)
from services.telemetry.store import add_counts, add_latencies, claim_events, paid_for, pair_latencies
from shared.messaging.telemetry import Pseudonyms, TelemetryEvent, TelemetryType
from shared.observability.telemetry_metrics import TELEMETRY_ROLLED_UP

Event = TypeVar("Event")


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


async def roll_up_telemetry(session: AsyncSession, events: Sequence[TelemetryEvent]) -> int:
    """Add the telemetry events not counted before; how many that were."""
    fresh = await _first_seen(session, events, lambda event: f"telemetry:{event.id}")
    counted: list[Counted] = []
    samples: list[LatencySample] = []
    halves: list[PairHalf] = []
    for event in fresh:
        counted += counted_of_telemetry(event)
        samples += latencies_of_telemetry(event)
        halves += _arrivals(event)
    await _store(session, counted, samples, halves)
    for event in fresh:
        TELEMETRY_ROLLED_UP.labels(event.type.value).inc()
    return len(fresh)


async def roll_up_entitlements(
    session: AsyncSession, pseudonyms: Pseudonyms, events: Sequence[dict[str, Any]]
) -> int:
    """Add the entitlement CloudEvents (and the paid steps they complete) not counted before."""
    fresh = await _first_seen(session, events, lambda event: f"entitlements:{event['id']}")
    counted: list[Counted] = []
    halves: list[PairHalf] = []
    for event in fresh:
        moment, data = moment_of(event), event["data"]
        activated = event["type"] == "entitlement.activated"
        paid = await paid_for(session, data, moment) if activated else None
        counted += counted_of_entitlement(event, moment, paid)
        provider_event_id = data.get("provider_event_id")
        if event["type"] in ENTITLEMENT_METRICS and isinstance(provider_event_id, str):
            key = await pseudonyms.of(provider_event_id)  # as webhook_ingest keyed the delivery's updates
            provider = str(data.get("source_provider") or "")
            halves.append(PairHalf(key, provider, committed_at=moment))
    await _store(session, counted, [], halves)
    for event in fresh:
        TELEMETRY_ROLLED_UP.labels(str(event["type"])).inc()
    return len(fresh)


async def _first_seen(
    session: AsyncSession, events: Sequence[Event], key_of: Callable[[Event], str]
) -> list[Event]:
    """The events whose key is claimed now, each key's first event only."""
    claimed = await claim_events(session, [key_of(event) for event in events])
    fresh: list[Event] = []
    for event in events:
        key = key_of(event)
        if key in claimed:
            claimed.discard(key)
            fresh.append(event)
    return fresh


def _arrivals(event: TelemetryEvent) -> list[PairHalf]:
    """A confirmed webhook's arrival, for each update it led to (keyed by the update's pseudonym)."""
    received_at_ms, keys = event.data.get("receivedAtMs"), event.data.get("keys")
    if event.type is not TelemetryType.WEBHOOK_CONFIRMED or not isinstance(received_at_ms, int):
        return []
    if not isinstance(keys, list):
        return []
    received, provider = received_at_of(received_at_ms), str(event.data.get("provider") or "")
    return [PairHalf(key, provider, received_at=received) for key in keys]


async def _store(
    session: AsyncSession, counted: list[Counted], samples: list[LatencySample], halves: list[PairHalf]
) -> None:
    completed = await pair_latencies(session, halves)
    await add_counts(session, counted)
    await add_latencies(session, samples + completed)
