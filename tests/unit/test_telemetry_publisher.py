"""Telemetry never holds up the caller: ``emit`` returns at once, and a Kafka that does not answer
(or a backlog beyond its bound) costs dropped events, counted, never an error or a wait."""

import asyncio
from typing import Any

from shared.messaging.telemetry import TelemetryPublisher, TelemetryType
from shared.observability.telemetry_metrics import TELEMETRY_DROPPED


class Unanswered:
    """A producer whose sends never complete: a broker that is down or hanging."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send_and_wait(self, topic: str, value: bytes, **_: Any) -> None:
        self.sent.append(value)
        await asyncio.Event().wait()


class Pseudonyms:
    async def of(self, value: str) -> str:
        return f"p-{len(value)}"


def _dropped(reason: str) -> float:
    return TELEMETRY_DROPPED.labels(TelemetryType.PACK_VIEWED.value, reason)._value.get()


def _publisher(producer: Unanswered, max_pending: int) -> TelemetryPublisher:
    return TelemetryPublisher(
        producer,  # type: ignore[arg-type]
        "t",
        Pseudonyms(),
        source="tests",
        max_pending=max_pending,
        send_timeout_s=0.05,
    )


async def test_an_unanswered_send_is_dropped_and_counted_without_holding_up_emit() -> None:
    producer = Unanswered()
    publisher = _publisher(producer, max_pending=10)
    before = _dropped("kafka")
    publisher.emit(TelemetryType.PACK_VIEWED, {"pack": "p"}, user_id="alice")  # returns without awaiting
    await publisher.drain(timeout_s=5)
    assert _dropped("kafka") == before + 1
    assert b"alice" not in producer.sent[0] and b'"subject":"p-5"' in producer.sent[0]


async def test_events_beyond_the_backlog_bound_are_dropped_and_counted() -> None:
    publisher = _publisher(Unanswered(), max_pending=2)
    before = _dropped("backlog")
    for _ in range(5):
        publisher.emit(TelemetryType.PACK_VIEWED, {"pack": "p"})
    assert _dropped("backlog") == before + 3
    await publisher.drain(timeout_s=5)
