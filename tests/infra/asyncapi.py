"""Validation of published records against the committed AsyncAPI document (docs/asyncapi.json)."""

import json
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator

from apps.cli.asyncapi import DOCUMENT


def committed_document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())  # type: ignore[no-any-return]


def message_of(document: dict[str, Any], address: str) -> dict[str, Any]:
    """The message of the first channel at ``address`` (every channel of a topic shares one shape)."""
    for channel in document["channels"].values():
        if channel["address"] == address:
            [reference] = channel["messages"].values()
            return document["components"]["messages"][_last(reference["$ref"])]  # type: ignore[no-any-return]
    raise LookupError(f"no channel at {address}")


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` whose ``#/components/...`` references resolve inside the document."""
    return Draft202012Validator({**schema, "components": document["components"]})


def violations(document: dict[str, Any], schema: dict[str, Any], instance: object) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in validator(document, schema).iter_errors(instance)
    ]


def _last(ref: str) -> str:
    return unquote(ref.rsplit("/", 1)[-1])
