"""Entitlement events as CloudEvents 1.0 (structured JSON mode)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

CLOUDEVENT_CONTENT_TYPE = "application/cloudevents+json"
CLOUDEVENT_SOURCE = "hometryon-billing/entitlement-worker"


class CloudEvent(BaseModel):
    """``id`` is stable across redeliveries: subscribers dedupe on it."""

    model_config = ConfigDict(frozen=True)

    specversion: str = "1.0"
    id: str
    source: str = CLOUDEVENT_SOURCE
    type: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    data: dict[str, Any]
