"""The gateway's outermost middleware: one request id and, when tracing is on, one server span per
request; both reach every log line the request causes (structlog contextvars, shared/logging.py).
The access log line, written after the middleware is done, reads the id off the response."""

import logging
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared.observability.request_ids import REQUEST_ID_HEADER, request_id_from
from shared.observability.tracing import tracer, tracing_enabled

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await (_traced(request, handler) if tracing_enabled() else handler(request))
        except web.HTTPException as exc:  # raised past the error middleware: still name the request
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
    if not response.prepared:  # a streamed response has sent its headers already
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


async def _traced(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The route's pattern, not its path, names the span: paths carry user ids.
    route = request.match_info.route.resource
    template = route.canonical if route is not None else "unmatched"
    with tracer().start_as_current_span(
        f"{request.method} {template}",
        context=propagate.extract(dict(request.headers)),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": request.method, "http.route": template},
    ) as span:
        response = await handler(request)
        span.set_attribute("http.response.status_code", response.status)
        if response.status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        return response


class AccessLogger(AbstractAccessLogger):
    """One structured line per request (``web.run_app(access_log_class=...)``): the route's path
    without its query string, the status, the time taken and the request id."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        structlog.get_logger(self.logger.name).info(
            "http_request",
            method=request.method,
            path=request.path,
            status=response.status,
            duration_ms=round(time * 1000, 1),
            request_id=response.headers.get(REQUEST_ID_HEADER),
        )
