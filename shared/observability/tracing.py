"""OpenTelemetry traces: one trace per webhook, from the gateway's request to the outbox publish.

Configured only by the standard ``OTEL_*`` variables. Tracing is on when ``OTEL_TRACES_EXPORTER``
names an exporter (``otlp``, ``console``) or an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``); ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``
turn it off. Off, neither the tracing SDK nor an exporter or instrumentation is imported: the API's
no-op tracer stays in place, no exporter thread runs, and the helpers below return at once (no span,
no header).

The context crosses Kafka as W3C ``traceparent``/``tracestate`` headers: the producers are plain
aiokafka producers (shared/messaging), so the global propagator injects into the record headers and
the consumers extract per record (their handlers take batches, so FastStream's per-message middleware
would see one span per batch).
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, TraceState
from opentelemetry.util.types import Attributes

if TYPE_CHECKING:  # the SDK is imported only when tracing is on
    from opentelemetry.sdk.trace.sampling import Sampler
    from sqlalchemy.ext.asyncio import AsyncEngine

TRACER_NAME = "hometryon.billing"
KafkaHeaders = Sequence[tuple[str, bytes]]

_enabled = False


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """What the ``OTEL_*`` variables ask for (the SDK's own default exporter, otlp, needs asking)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = _exporter_names(environ)
    if exporters:
        return exporters != ["none"]
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return any(environ.get(name) for name in endpoints)


def tracing_enabled() -> bool:
    return _enabled


def configure_tracing(service_name: str) -> bool:
    """Install the SDK's tracer provider once per process when asked; True if tracing is on.

    ``service_name`` is the default for ``OTEL_SERVICE_NAME``. httpx clients are instrumented here
    (every provider call gets a client span and carries ``traceparent``); database engines by
    ``trace_engine``.
    """
    global _enabled
    if _enabled or not tracing_requested():
        return _enabled
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    # Resource.create lets its argument win over OTEL_SERVICE_NAME: the variable must win here.
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.sampler = _without_stray_client_spans(provider.sampler)  # wraps OTEL_TRACES_SAMPLER's
    for exporter_name in _exporter_names(os.environ) or ["otlp"]:
        exporter: SpanExporter
        if exporter_name == "console":
            exporter = ConsoleSpanExporter()
        elif exporter_name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # endpoint, headers, timeout: OTEL_EXPORTER_OTLP_*
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER={exporter_name!r}: only otlp, console or none")
        provider.add_span_processor(BatchSpanProcessor(exporter))  # pace: OTEL_BSP_*
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    _enabled = True
    return True


def trace_engine(engine: "AsyncEngine") -> None:
    """Statement spans for every query on ``engine`` (children of the span current at the query)."""
    if not _enabled:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    # The instrumentor's global hooks wrap sqlalchemy's engine factories, which shared/db/engine.py
    # bound at import; its per-engine tracer is what it would attach.
    usage = get_meter(TRACER_NAME).create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer(), engine.sync_engine, usage)  # type: ignore[no-untyped-call]


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


@contextmanager
def producing(topic: str) -> Iterator[list[tuple[str, bytes]]]:
    """A producer span for one record sent to ``topic``; yields the headers that carry it."""
    if not _enabled:
        yield []
        return
    with tracer().start_as_current_span(
        f"publish {topic}", kind=SpanKind.PRODUCER, attributes=_messaging(topic)
    ):
        yield injected_headers()


def injected_headers() -> list[tuple[str, bytes]]:
    """The current context as Kafka headers (none when tracing is off)."""
    if not _enabled:
        return []
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(name, value.encode()) for name, value in carrier.items()]


@contextmanager
def consuming(topic: str, headers: KafkaHeaders, **attributes: Any) -> Iterator[Span | None]:
    """A consumer span for one record, child of the span whose context its headers carry."""
    if not _enabled:
        yield None
        return
    with tracer().start_as_current_span(
        f"process {topic}",
        context=extracted(headers),
        kind=SpanKind.CONSUMER,
        attributes={**_messaging(topic), **attributes},
    ) as span:
        yield span


@contextmanager
def consuming_batch(topic: str, batch_headers: Sequence[KafkaHeaders]) -> Iterator[None]:
    """A consumer span for a batch handled in one go (one transaction): child of the first record's
    context, linked to every record's, so each webhook's trace reaches the batch that applied it."""
    if not _enabled or not batch_headers:
        yield
        return
    contexts = [trace.get_current_span(extracted(headers)).get_span_context() for headers in batch_headers]
    links = [trace.Link(span_context) for span_context in contexts if span_context.is_valid]
    with tracer().start_as_current_span(
        f"process {topic}",
        context=extracted(batch_headers[0]),
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={**_messaging(topic), "messaging.batch.message_count": len(batch_headers)},
    ):
        yield


@contextmanager
def continuing(traceparent: str | None) -> Iterator[None]:
    """Run the block in the trace a stored ``traceparent`` names (e.g. an outbox row's)."""
    if not _enabled or not traceparent:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        context.detach(token)


def current_traceparent() -> str | None:
    """The current span's W3C ``traceparent``, to store beside work done later (an outbox row)."""
    if not _enabled:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def extracted(headers: KafkaHeaders) -> context.Context:
    fields = propagate.get_global_textmap().fields
    carrier = {name: bytes(value).decode(errors="replace") for name, value in headers if name in fields}
    return propagate.extract(carrier)


def _without_stray_client_spans(delegate: "Sampler") -> "Sampler":
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class WithoutStrayClientSpans(Sampler):
        """Drops a client span (an SQL statement, an HTTP call) that would start a trace: outside
        our traced work (the relay's polls, the sweeps) each would be a trace of its own."""

        def should_sample(
            self,
            parent_context: context.Context | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Attributes = None,
            links: Sequence[trace.Link] | None = None,
            trace_state: TraceState | None = None,
        ) -> SamplingResult:
            parent = trace.get_current_span(parent_context).get_span_context()
            if kind is SpanKind.CLIENT and not parent.is_valid:
                return SamplingResult(Decision.DROP)
            return delegate.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"WithoutStrayClientSpans{{{delegate.get_description()}}}"

    return WithoutStrayClientSpans()


def _messaging(topic: str) -> dict[str, str]:
    return {"messaging.system": "kafka", "messaging.destination.name": topic}


def _exporter_names(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get("OTEL_TRACES_EXPORTER", "")
    return [name.strip().lower() for name in raw.split(",") if name.strip()]
