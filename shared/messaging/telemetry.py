"""The funnel's telemetry bus ``billing.telemetry``: CloudEvents 1.0, best effort, never in the way.

``TelemetryPublisher.emit`` returns at once: the event is pseudonymized and sent by a background task.
Kafka down or slow, too many events waiting, no pseudonym key: the event is dropped and counted
(``billing_telemetry_dropped_total``), and the request that emitted it never notices. The funnel's
later steps (completions, settlements, entitlements) are read by the telemetry consumer from the
entitlement CloudEvents instead (services/telemetry/), which are never lost.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, Protocol

import structlog
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel, ConfigDict

from shared.observability.telemetry_metrics import TELEMETRY_DROPPED, TELEMETRY_EMITTED

log = structlog.get_logger(__name__)
CONTENT_TYPE = ("content-type", b"application/cloudevents+json")
# Deterministic ids (one business fact, one id however often it is seen) live in this namespace.
TELEMETRY_ID_NAMESPACE = uuid.UUID("6f1d3c52-6b0e-4b43-9d1c-2a3f7c9e5a10")

DataValue = str | int | None


class TelemetryType(StrEnum):
    PACK_VIEWED = "pack.viewed"
    CHECKOUT_STARTED = "checkout.started"
    CHECKOUT_COMPLETED = "checkout.completed"
    INVOICE_SETTLED = "invoice.settled"
    INVOICE_EXPIRED = "invoice.expired"
    ENTITLEMENT_ACTIVATED = "entitlement.activated"
    ENTITLEMENT_EXPIRED = "entitlement.expired"
    ENTITLEMENT_REVOKED = "entitlement.revoked"
    WEBHOOK_RECEIVED = "webhook.received"
    # webhook_ingest mapped a delivery to updates: pairs a webhook's arrival with its entitlement.
    WEBHOOK_CONFIRMED = "webhook.confirmed"


class TelemetryEvent(BaseModel):
    """One structured-mode CloudEvent; ``subject`` is the user's pseudonym, never the user id."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: TelemetryType
    time: datetime
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, DataValue | list[str]]


class Pseudonyms(Protocol):
    async def of(self, value: str) -> str: ...


def fact_id(*parts: str) -> str:
    """The stable id of an event that states one fact (``invoice.expired`` of one checkout)."""
    return str(uuid.uuid5(TELEMETRY_ID_NAMESPACE, "\x1f".join(parts)))


class TelemetryPublisher:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        pseudonyms: Pseudonyms,
        *,
        source: str,
        max_pending: int,
        send_timeout_s: float,
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._pseudonyms = pseudonyms
        self._source = source
        self._max_pending = max_pending
        self._send_timeout_s = send_timeout_s
        self._pending: set[asyncio.Task[None]] = set()

    def emit(
        self,
        type_: TelemetryType,
        data: Mapping[str, DataValue | list[str]],
        *,
        user_id: str | None = None,
        event_id: str | None = None,
        pseudonymous_keys: Sequence[str] = (),
    ) -> None:
        """Queue one event and return at once (call inside the event loop); never raises.

        ``pseudonymous_keys`` (ids that may contain a user id) travel as ``data.keys``, pseudonymized."""
        if len(self._pending) >= self._max_pending:
            TELEMETRY_DROPPED.labels(type_.value, "backlog").inc()
            return
        moment = datetime.now(UTC)
        pending = self._send(
            type_, dict(data), user_id, list(pseudonymous_keys), event_id or str(uuid.uuid4()), moment
        )
        task = asyncio.create_task(pending)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(
        self,
        type_: TelemetryType,
        data: dict[str, DataValue | list[str]],
        user_id: str | None,
        keys: list[str],
        event_id: str,
        moment: datetime,
    ) -> None:
        try:
            subject = await self._pseudonyms.of(user_id) if user_id else None
            if keys:
                data["keys"] = [await self._pseudonyms.of(key) for key in keys]
        except Exception as exc:  # any failure of the key's store drops the event, no more
            self._dropped(type_, "pseudonym", exc)
            return
        event = TelemetryEvent(
            id=event_id, source=self._source, type=type_, time=moment, subject=subject, data=data
        )
        try:
            await asyncio.wait_for(
                self._producer.send_and_wait(
                    self._topic,
                    value=event.model_dump_json().encode(),
                    key=(subject or type_.value).encode(),
                    headers=[CONTENT_TYPE, ("ce_id", event.id.encode()), ("ce_type", type_.value.encode())],
                ),
                self._send_timeout_s,
            )
        except Exception as exc:  # Kafka down, slow or refusing: telemetry gives up quietly
            self._dropped(type_, "kafka", exc)
            return
        TELEMETRY_EMITTED.labels(type_.value).inc()

    @staticmethod
    def _dropped(type_: TelemetryType, reason: str, exc: Exception) -> None:
        TELEMETRY_DROPPED.labels(type_.value, reason).inc()
        log.debug("telemetry_dropped", type=type_.value, reason=reason, error=type(exc).__name__)

    async def drain(self, timeout_s: float = 2.0) -> None:
        """Give waiting events a moment before the producer stops; the rest are cancelled (dropped)."""
        if not self._pending:
            return
        _, late = await asyncio.wait(set(self._pending), timeout=timeout_s)
        for task in late:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*late, return_exceptions=True)


def telemetry_event_of(value: bytes) -> TelemetryEvent:
    """The event behind a record of the telemetry topic; pydantic's ``ValidationError`` when not one."""
    return TelemetryEvent.model_validate_json(value)
