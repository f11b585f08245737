"""The request id: taken from ``X-Request-Id`` (or made) by the gateway, bound to every log line, and
carried on the Kafka records the request caused, so ingest's and the worker's lines name it too."""

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import structlog

REQUEST_ID_HEADER = "X-Request-Id"
KAFKA_HEADER = "request-id"
# A caller's id is echoed and logged: only short, plain tokens are kept, anything else is replaced.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id_from(value: str | None) -> str:
    """The caller's id if it is a plain token, else a new one."""
    if value and _ACCEPTABLE.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def request_id_headers() -> list[tuple[str, bytes]]:
    """The current request id as a Kafka header (none outside a request)."""
    request_id = current_request_id()
    return [(KAFKA_HEADER, request_id.encode())] if request_id else []


@contextmanager
def bound_request_id(headers: Sequence[tuple[str, bytes]]) -> Iterator[None]:
    """Bind the request id a consumed record carries (if any) to the log lines of the block."""
    for name, value in headers:
        if name == KAFKA_HEADER:
            with structlog.contextvars.bound_contextvars(request_id=request_id_from(bytes(value).decode())):
                yield
            return
    yield
