"""A small OTLP/HTTP trace receiver: the services export to it (``OTEL_EXPORTER_OTLP_ENDPOINT``) and a
test asks which spans arrived, decoded from the protobuf ``ExportTraceServiceRequest``."""

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from apps.stack.processes import free_port

SPAN_KINDS = {
    SpanProto.SPAN_KIND_INTERNAL: "internal",
    SpanProto.SPAN_KIND_SERVER: "server",
    SpanProto.SPAN_KIND_CLIENT: "client",
    SpanProto.SPAN_KIND_PRODUCER: "producer",
    SpanProto.SPAN_KIND_CONSUMER: "consumer",
}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str
    trace_id: str  # W3C hex
    span_id: str
    parent_span_id: str  # "" for a root span
    attributes: dict[str, str]
    links: tuple[str, ...]  # trace ids of the linked spans


class OtlpCollector:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.endpoint = ""

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            service = attributes.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(_received(service, span) for span in scope_spans.spans)
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    def in_trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]


def _received(service: str, span: SpanProto) -> ReceivedSpan:
    return ReceivedSpan(
        service=service,
        name=span.name,
        kind=SPAN_KINDS.get(span.kind, "unspecified"),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        attributes={a.key: a.value.string_value or str(a.value.int_value) for a in span.attributes},
        links=tuple(link.trace_id.hex() for link in span.links),
    )


@asynccontextmanager
async def otlp_collector() -> AsyncIterator[OtlpCollector]:
    """A collector listening on a free local port; ``endpoint`` is the ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
    collector = OtlpCollector()
    app = web.Application()
    app.router.add_post("/v1/traces", collector._receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    collector.endpoint = f"http://127.0.0.1:{port}"
    try:
        yield collector
    finally:
        await runner.cleanup()
