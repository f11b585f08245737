"""structlog set-up: one processor chain for our lines and every library's (aiokafka, faststream,
aiohttp, ...), JSON unless a person is watching (stderr is a TTY), each line naming its request id
and trace id when it has them."""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import faststream  # noqa: F401 (its own logger is made at import; configure_logging then resets it)
import structlog
from opentelemetry import trace

from shared.core_settings import CoreSettings

# What faststream's broker puts in a record's ``extra``: which message a library line is about.
FASTSTREAM_FIELDS = ("topic", "group_id", "message_id")


def add_trace_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The current span's trace and span ids (W3C hex), when a span is recording."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", trace.format_trace_id(context.trace_id))
        event_dict.setdefault("span_id", trace.format_span_id(context.span_id))
    return event_dict


def wants_json(log_format: str) -> bool:
    return log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())


def broker_logger() -> logging.Logger:
    """The logger to hand FastStream's broker: a plain stdlib one, so its lines reach our handler
    (its default keeps a handler and formatter of its own and does not propagate)."""
    return logging.getLogger("faststream.access.kafka")


class _StructlogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours on the root logger: replaced, not doubled, when logging is configured again."""


def configure_logging(settings: CoreSettings) -> None:
    """Route stdlib and structlog output through one chain and one renderer."""
    as_json = wants_json(settings.log_format)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    # The console renderer lays exceptions out itself; JSON needs them as a string field.
    exceptions: list[structlog.types.Processor] = [structlog.processors.format_exc_info] if as_json else []
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_context,
    ]
    handler = _StructlogHandler()  # stderr, as before
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(allow=FASTSTREAM_FIELDS),
            ],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _StructlogHandler)] + [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    # httpx logs one INFO line per provider call: noise that costs CPU on the hot path (every line goes
    # through the chain); the calls have their metrics (billing_provider_call_seconds) instead.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.captureWarnings(True)  # Python's warnings too, so every line has the one format
    # FastStream's application logger was given a handler and formatter of its own at import.
    faststream_app = logging.getLogger("faststream")
    faststream_app.handlers.clear()
    faststream_app.propagate = True
    structlog.configure(
        processors=[*shared, *exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(settings.log_level)),
    )
