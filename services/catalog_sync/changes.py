"""The catalog change CloudEvent catalog_sync consumes (written by shared/db/catalog_changes.py).

The relay publishes it as ``application/cloudevents+json``, which FastStream hands over as bytes,
so the handler parses each record itself: a record that does not parse is a poison message.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PackChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str
    change: str
    fields: list[str] = Field(default_factory=list)
    active: bool


class CatalogChangeEvent(BaseModel):
    """``catalog.pack.<change>`` for one pack; ``subject`` is its slug."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"]
    id: str
    source: str
    type: str = Field(pattern=r"^catalog\.")
    subject: str
    time: datetime
    data: PackChange
