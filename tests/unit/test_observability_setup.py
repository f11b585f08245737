"""Tracing is off unless the OTEL_* variables ask for it, and off costs nothing; log lines are JSON off
a TTY, library lines included, with the request id and trace id of the work they belong to.

Each check runs in a fresh interpreter: tracing and logging set-up are process-wide."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from apps.stack.processes import REPO_ROOT
from shared.logging import wants_json
from shared.observability.request_ids import request_id_from
from shared.observability.tracing import tracing_requested


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BILLING_"))}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**clean, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "gateway"}, False),  # naming a service does not turn tracing on
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_tracing_is_on_only_when_the_standard_variables_ask_for_it(env: dict[str, str], wanted: bool) -> None:
    assert tracing_requested(env) is wanted


def test_with_nothing_set_no_tracing_sdk_is_loaded_no_thread_started_no_header_added() -> None:
    result = _run(
        """
        import sys, threading
        from opentelemetry import trace
        from shared.observability.tracing import configure_tracing, current_traceparent, producing
        import services.gateway.app, services.webhook_ingest.app, services.entitlement_worker.app

        assert configure_tracing("gateway") is False
        with producing("billing.webhooks.raw") as headers:
            assert headers == []
            assert not trace.get_current_span().get_span_context().is_valid
        assert current_traceparent() is None
        tracing = ("opentelemetry.sdk.trace", "opentelemetry.exporter", "opentelemetry.instrumentation")
        print(sorted(m for m in sys.modules if m.startswith(tracing)))
        print(sorted(t.name for t in threading.enumerate()))
        """
    )
    sdk_modules, threads = result.stdout.splitlines()
    assert sdk_modules == "[]"
    assert threads == "['MainThread']"


def test_when_asked_spans_carry_the_service_name_and_cross_kafka_as_traceparent() -> None:
    result = _run(
        """
        from opentelemetry import trace
        from shared.observability.tracing import configure_tracing, consuming, producing
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        assert configure_tracing("webhook-ingest") is True
        memory = InMemorySpanExporter()
        trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(memory))
        with producing("raw") as headers:
            pass
        with consuming("raw", headers):
            pass
        sent, received = memory.get_finished_spans()
        assert received.parent.span_id == sent.context.span_id
        assert received.context.trace_id == sent.context.trace_id
        print(sent.resource.attributes["service.name"], [name for name, _ in headers])
        """,
        OTEL_TRACES_EXPORTER="console",
        OTEL_SERVICE_NAME="ingest-eu-1",
        OTEL_BSP_SCHEDULE_DELAY="60000",
    )
    assert result.stdout.splitlines()[0] == "ingest-eu-1 ['traceparent']"  # the variable wins


def test_off_a_tty_every_line_is_json_with_the_request_id_and_the_trace_id_of_its_span() -> None:
    result = _run(
        """
        import logging, warnings
        import structlog
        from opentelemetry.sdk.trace import TracerProvider
        from shared.logging import configure_logging
        from shared.settings import Settings

        configure_logging(Settings())
        span = TracerProvider().get_tracer("test").start_as_current_span("work")
        with structlog.contextvars.bound_contextvars(request_id="req-1"), span:
            structlog.get_logger().info("ours", field=1)
            logging.getLogger("aiokafka.conn").warning("library %s", "line")
            logging.getLogger("faststream.access.kafka").info("Received", extra={"topic": "t"})
        warnings.warn("a python warning")
        try:
            raise ValueError("boom")
        except ValueError:
            structlog.get_logger().exception("failed")
        """
    )
    lines = [json.loads(line) for line in (result.stdout + result.stderr).splitlines()]
    by_event = {line["event"]: line for line in lines if not line["event"].startswith("/")}
    ours, library, faststream = by_event["ours"], by_event["library line"], by_event["Received"]
    assert ours["field"] == 1 and library["logger"] == "aiokafka.conn" and faststream["topic"] == "t"
    for line in (ours, library, faststream):
        assert line["request_id"] == "req-1"
        assert len(line["trace_id"]) == 32 and line["trace_id"] == ours["trace_id"]
    assert "ValueError: boom" in by_event["failed"]["exception"]
    assert any("a python warning" in line["event"] for line in lines)
    assert "trace_id" not in by_event["failed"]  # no span, no trace id


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("req-1", True),
        ("0af7651916cd43dd8448eb211c80319c", True),
        ("x" * 129, False),
        ("a b", False),
        ("", False),
    ],
)
def test_a_callers_request_id_is_kept_only_when_it_is_a_short_plain_token(given: str, kept: bool) -> None:
    made = request_id_from(given)
    assert (made == given) is kept
    assert len(made) <= 128


class _Terminal:
    def isatty(self) -> bool:
        return True


def test_on_a_tty_the_default_stays_the_console_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert wants_json("auto")  # pytest's captured stderr is no TTY
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert not wants_json("auto") and wants_json("json") and not wants_json("console")
