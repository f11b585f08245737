"""What one catalog write changed in a pack, and the ``catalog.pack.*`` CloudEvent announcing it.

The event is an outbox row, written in the writer's transaction, for ``billing.catalog.changes``.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from shared.catalog.resolve import ResolvedPack
from shared.db.models import Outbox
from shared.domain.cloudevents import CloudEvent

CATALOG_EVENT_SOURCE = "hometryon-billing/catalog"


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


@dataclass(frozen=True)
class PackChange:
    slug: str
    kind: ChangeKind
    fields: list[str]


def change_event(topic: str, change: PackChange, pack: ResolvedPack) -> Outbox:
    outbox_id = uuid.uuid4()
    event = CloudEvent(
        id=str(outbox_id),
        source=CATALOG_EVENT_SOURCE,
        type=f"catalog.pack.{change.kind.value}",
        subject=change.slug,
        time=datetime.now(UTC),
        data={
            "slug": change.slug,
            "change": change.kind.value,
            "fields": change.fields,
            "active": pack.spec.active,
        },
    )
    return Outbox(
        id=outbox_id,
        topic=topic,
        key=change.slug,
        event_type=event.type,
        payload=event.model_dump(mode="json"),
    )
