"""Entitlement CloudEvents as the topic carries them (docs/events.md), read into the SDK's model."""

import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from hometryon_billing.models import Entitlement

EVENT_TYPES = frozenset(
    {"entitlement.activated", "entitlement.renewed", "entitlement.expired", "entitlement.revoked"}
)


@dataclass(frozen=True)
class EntitlementEvent:
    id: str
    type: str
    time: datetime  # when the change was committed
    entitlement: Entitlement


class NotAnEntitlementEvent(ValueError):
    """A record that is not an entitlement CloudEvent of a version this SDK reads."""


def parse_event(value: bytes | None) -> EntitlementEvent:
    try:
        event = json.loads(value or b"")
        if event.get("type") not in EVENT_TYPES:
            raise NotAnEntitlementEvent(f"type {event.get('type')!r}")
        return EntitlementEvent(
            id=str(event["id"]),
            type=event["type"],
            time=datetime.fromisoformat(event["time"]),
            entitlement=Entitlement.model_validate(event["data"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
        if isinstance(exc, NotAnEntitlementEvent):
            raise
        raise NotAnEntitlementEvent(str(exc)[:200]) from exc
