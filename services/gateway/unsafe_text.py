"""Text no store of ours can hold: NUL (Postgres text and jsonb refuse it) and lone UTF-16
surrogates (``"\\ud800"`` is valid JSON text but not encodable as UTF-8).

The gateway refuses such input at the edge, naming the field, before anything reaches Kafka or
the database; no provider sends either in a JSON identifier.
"""

import json
import re
from collections import deque
from typing import Any

import orjson

UNSAFE = re.compile("[\x00\ud800-\udfff]")


def is_unsafe(text: str) -> bool:
    return UNSAFE.search(text) is not None


def parsed_json(body: bytes) -> tuple[bool, Any]:
    """(True, document) for JSON text, lone surrogate escapes included; (False, None) otherwise."""
    try:
        return True, orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:  # orjson refuses lone surrogates; the standard parser keeps them, so we can name the field
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


def unsafe_field(document: Any) -> str | None:
    """The dotted path of the shallowest key or string value holding unsafe text, else None."""
    pending: deque[tuple[str, Any]] = deque([("", document)])
    while pending:
        path, value = pending.popleft()
        if isinstance(value, str) and is_unsafe(value):
            return path or "body"
        if isinstance(value, dict):
            for key, child in value.items():
                if is_unsafe(key):
                    return f"{path}[key]" if path else "[key]"
                pending.append((f"{path}.{key}" if path else key, child))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", child) for i, child in enumerate(value))
    return None
