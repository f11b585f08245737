"""Which message each topic carries and who sends it: the send side of the AsyncAPI document.

The receive side comes from the FastStream apps' own subscribers (asyncapi.py). Every topic of
``Topics.all()`` must appear here: ``contracts_for`` fails on one that does not, so a new topic
cannot be left out of the document.
"""

from dataclasses import dataclass

from pydantic import BaseModel

from services.catalog_sync.changes import CatalogChangeEvent
from shared.domain.cloudevents import CLOUDEVENT_CONTENT_TYPE
from shared.domain.entitlements import EntitlementUpdate
from shared.messaging.contracts import (
    AuditAnchor,
    CloudEventHeaders,
    DeadLetterHeaders,
    EntitlementCloudEvent,
    JsonHeaders,
    RawDeliveryBody,
    RawDeliveryHeaders,
    TelemetryHeaders,
)
from shared.messaging.telemetry import TelemetryEvent
from shared.messaging.topics import Topics


@dataclass(frozen=True)
class TopicContract:
    topic: str
    payload: type[BaseModel]
    headers: type[BaseModel] | None
    content_type: str
    key: str
    senders: tuple[str, ...]  # the services that write it (none: a dead-letter topic nobody fills yet)
    description: str
    by_alias: bool = True  # whether the wire uses the model's aliases
    dead_lettered_by: tuple[str, ...] = ()  # the consumers that send its poison records to its DLQ

    def dead_letters(self) -> "TopicContract":
        return TopicContract(
            topic=Topics.dead_letters_of(self.topic),
            payload=self.payload,
            headers=DeadLetterHeaders,
            content_type=self.content_type,
            key=self.key,
            senders=self.dead_lettered_by,
            description=(
                f"Records of `{self.topic}` that could not be processed: the original key, value and "
                "headers, plus `x-error`, `x-attempts`, `x-original-topic`. Kept until an operator "
                "replays them (`billing dlq replay`): back to the original topic, without those three."
            ),
            by_alias=self.by_alias,
        )


def main_contracts(topics: Topics) -> list[TopicContract]:
    return [
        TopicContract(
            topic=topics.webhooks_raw,
            payload=RawDeliveryBody,
            headers=RawDeliveryHeaders,
            content_type="application/octet-stream",
            key="`provider[:source]:delivery-id`: a provider's retry lands on the first delivery's partition",
            senders=("gateway",),
            description=(
                "Every verified webhook delivery, its body untouched (the provider's bytes, usually JSON); "
                "what the gateway knows about it travels in headers."
            ),
            dead_lettered_by=("webhook-ingest",),
        ),
        TopicContract(
            topic=topics.entitlement_updates,
            payload=EntitlementUpdate,
            headers=JsonHeaders,
            content_type="application/json",
            key="user id: one user's updates keep their order",
            senders=("webhook-ingest", "gateway", "entitlement-worker"),
            description=(
                "What a provider says happened to one entitlement, confirmed with it (webhook-ingest), "
                "an operator's revocation (gateway) or an expiry (the worker's sweep)."
            ),
            by_alias=False,
            dead_lettered_by=("entitlement-worker",),
        ),
        TopicContract(
            topic=topics.entitlements,
            payload=EntitlementCloudEvent,
            headers=CloudEventHeaders,
            content_type=CLOUDEVENT_CONTENT_TYPE,
            key="user id (the event's `subject`)",
            senders=("entitlement-worker",),
            description=(
                "Every change of access, once, as a CloudEvent, published by the worker's outbox relay "
                "(docs/events.md): subscribe here."
            ),
        ),
        TopicContract(
            topic=topics.catalog_changes,
            payload=CatalogChangeEvent,
            headers=CloudEventHeaders,
            content_type=CLOUDEVENT_CONTENT_TYPE,
            key="pack slug",
            senders=("entitlement-worker",),
            description=(
                "A pack was created, changed or retired (`billing catalog apply`, the admin API), published "
                "by the worker's outbox relay; catalog-sync pushes it to every provider."
            ),
            dead_lettered_by=("catalog-sync",),
        ),
        TopicContract(
            topic=topics.telemetry,
            payload=TelemetryEvent,
            headers=TelemetryHeaders,
            content_type=CLOUDEVENT_CONTENT_TYPE,
            key="the user's pseudonym (the event type when the event names no user)",
            senders=("gateway", "webhook-ingest"),
            description=(
                "The funnel's telemetry, best effort (docs/telemetry.md): pack views, checkouts started, "
                "webhooks received and confirmed, invoices expired. `subject` is the user's pseudonym, "
                "never the user id; the telemetry service rolls them up."
            ),
            dead_lettered_by=("telemetry",),
        ),
    ]


def contracts_for(topics: Topics) -> list[TopicContract]:
    """Every topic's contract, dead-letter topics included, in ``Topics.all()`` order."""
    main = main_contracts(topics)
    anchors = TopicContract(
        topic=topics.audit_anchors,
        payload=AuditAnchor,
        headers=None,
        content_type="application/json",
        key="`audit-chain`, always partition 0: its last record is the newest anchor",
        senders=("entitlement-worker",),
        description=(
            "The audit chain's head, published outside the database by the worker's audit sealer "
            "(`billing audit verify` reads it)."
        ),
    )
    contracts = {c.topic: c for c in [*main, *(c.dead_letters() for c in main), anchors]}
    missing = [topic for topic in topics.all() if topic not in contracts]
    if missing:
        raise LookupError(f"no message contract for {missing}: add it to apps/cli/asyncapi_topics.py")
    return [contracts[topic] for topic in topics.all()]
