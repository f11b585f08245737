"""Bases for the domain's pydantic models and the public shapes the seed names."""

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer
from pydantic.alias_generators import to_camel


class DomainModel(BaseModel):
    """snake_case in Python, camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class SeedShape(BaseModel):
    """A public shape the seed names: fields are written under their aliases (the seed's names).

    ``todays_names`` maps each name we served before the seed's to the seed name it mirrors; both are
    written, so clients of either keep working. Nested shapes keep their own names.
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True, serialize_by_alias=True)
    todays_names: ClassVar[Mapping[str, str]] = {}

    @model_serializer(mode="wrap")
    def _with_todays_names(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        written: dict[str, Any] = handler(self)
        return written | {
            today: written[seed] for today, seed in self.todays_names.items() if seed in written
        }
