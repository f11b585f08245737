"""Telemetry test helpers: a telemetry consumer of its own, topics read back, and a replay of them."""

import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord, TopicPartition
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.stack.processes import REPO_ROOT, service_argv, settings_env, stop_all
from services.telemetry.handlers import entitlement_event_of, moment_of
from services.telemetry.rollups import (
    ENTITLEMENT_METRICS,
    LatencySample,
    RollupKey,
    counted_of_entitlement,
    counted_of_telemetry,
    latencies_of_telemetry,
    received_at_of,
    webhook_to_entitlement,
)
from services.telemetry.store import paid_for
from shared.db.telemetry_models import TelemetryLatencyBucket, TelemetryRollup
from shared.messaging.telemetry import Pseudonyms, TelemetryType, telemetry_event_of
from shared.messaging.topics import Topics
from shared.settings import Settings
from tests.infra.marketplace import Page

Totals = dict[RollupKey, tuple[int, int, int]]  # events, amount_minor, amount_msat
Buckets = Counter[tuple[object, ...]]  # (hour, metric, provider, le_ms) → events


@contextmanager
def telemetry_consumer(settings: Settings, log_file: Path) -> Iterator[None]:
    """``billing serve telemetry`` against ``settings``, stopped on exit."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, *service_argv("telemetry")],
            env=settings_env(settings),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            stop_all([child])


async def consumed_everything(settings: Settings, group: str, topic: str) -> bool:
    """True once ``group`` committed the end offset of every partition of ``topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    await admin.start()
    try:
        partitions = await _partitions(settings.kafka_bootstrap, topic)
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group)
        return all(committed.get(tp) is not None and committed[tp].offset >= ends[tp] for tp in partitions)
    finally:
        await admin.close()
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in sorted(description["partitions"], key=str)]


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` from the beginning to its current end, partition by partition."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = await _partitions(bootstrap, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += [r for r in batch if r.offset < ends[TopicPartition(r.topic, r.partition)]]
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


async def replayed_rollups(
    session: AsyncSession, settings: Settings, pseudonyms: Pseudonyms
) -> tuple[Totals, Buckets]:
    """The rollups recomputed from both topics read from the beginning, each event id once."""
    topics = Topics(settings.namespace)
    totals: dict[RollupKey, list[int]] = defaultdict(lambda: [0, 0, 0])
    samples: list[LatencySample] = []
    arrivals: dict[str, datetime] = {}
    commits: dict[str, tuple[datetime, str]] = {}
    seen: set[str] = set()
    for record in await read_topic(settings.kafka_bootstrap, topics.telemetry):
        event = telemetry_event_of(record.value or b"")
        if event.id in seen:
            continue
        seen.add(event.id)
        for item in counted_of_telemetry(event):
            _add(totals, item.key, item.amount_minor, item.amount_msat)
        samples += latencies_of_telemetry(event)
        if event.type is TelemetryType.WEBHOOK_CONFIRMED:
            keys, received_at_ms = event.data["keys"], event.data["receivedAtMs"]
            assert isinstance(keys, list) and isinstance(received_at_ms, int)
            arrivals |= dict.fromkeys(keys, received_at_of(received_at_ms))
    for record in await read_topic(settings.kafka_bootstrap, topics.entitlements):
        cloud_event = entitlement_event_of(record.value or b"")
        if cloud_event["id"] in seen:
            continue
        seen.add(cloud_event["id"])
        moment, data = moment_of(cloud_event), cloud_event["data"]
        paid = (
            await paid_for(session, data, moment) if cloud_event["type"] == "entitlement.activated" else None
        )
        for item in counted_of_entitlement(cloud_event, moment, paid):
            _add(totals, item.key, item.amount_minor, item.amount_msat)
        if cloud_event["type"] in ENTITLEMENT_METRICS:
            commits[await pseudonyms.of(data["provider_event_id"])] = (moment, data["source_provider"])
    samples += [
        webhook_to_entitlement(arrivals[key], moment, provider)
        for key, (moment, provider) in commits.items()
        if key in arrivals
    ]
    buckets: Buckets = Counter((s.hour, s.metric, s.provider, s.le_ms) for s in samples)
    return {key: (v[0], v[1], v[2]) for key, v in totals.items()}, buckets


def _add(totals: dict[RollupKey, list[int]], key: RollupKey, minor: int, msat: int) -> None:
    totals[key][0] += 1
    totals[key][1] += minor
    totals[key][2] += msat


async def stored_rollups(session: AsyncSession) -> tuple[Totals, Buckets]:
    totals: Totals = {
        RollupKey(r.hour, r.metric, r.pack, r.provider, r.market, r.currency): (
            r.events,
            r.amount_minor,
            r.amount_msat,
        )
        for r in await session.scalars(select(TelemetryRollup))
    }
    buckets: Buckets = Counter(
        {
            (b.hour, b.metric, b.provider, b.le_ms): b.events
            for b in await session.scalars(select(TelemetryLatencyBucket))
        }
    )
    return totals, buckets


def funnel_counts(html: str, pack: str, provider: str) -> dict[str, int]:
    """The dashboard's funnel line of ``pack`` and ``provider``: metric → count (empty if absent)."""
    counts: dict[str, int] = {}
    inside = False
    for element in Page(html).elements:
        if element.tag == "tr":
            inside = element.attrs.get("data-pack") == pack and element.attrs.get("data-provider") == provider
        elif inside and element.tag == "td" and "data-metric" in element.attrs:
            counts[element.attrs["data-metric"]] = int(element.text.strip())
    return counts
