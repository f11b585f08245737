"""Provider call metrics: every call timed, each failure counted by its kind, the error re-raised."""

import httpx
import pytest
from prometheus_client import REGISTRY

from shared.observability.provider_calls import provider_call

PROVIDER = "unit-test-provider"


def errors(kind: str) -> float:
    labels = {"provider": PROVIDER, "method": "GET", "kind": kind}
    return REGISTRY.get_sample_value("billing_provider_call_errors_total", labels) or 0.0


def calls() -> float:
    labels = {"provider": PROVIDER, "method": "GET"}
    return REGISTRY.get_sample_value("billing_provider_call_seconds_count", labels) or 0.0


@pytest.mark.parametrize(
    ("status", "kind"),
    [(200, None), (404, "rejected"), (429, "rate_limited"), (503, "server_error")],
)
def test_an_answer_is_timed_and_a_failing_status_counted_by_kind(status: int, kind: str | None) -> None:
    before = {k: errors(k) for k in ("rejected", "rate_limited", "server_error", "unreachable")}
    timed = calls()
    with provider_call(PROVIDER, "GET") as call:
        call.answered(status)
    after = {k: errors(k) for k in before}
    assert {k: after[k] - before[k] for k in before} == {k: float(k == kind) for k in before}
    assert calls() == timed + 1


def test_a_transport_failure_counts_as_unreachable_and_is_raised() -> None:
    before = errors("unreachable")
    with pytest.raises(httpx.ConnectError), provider_call(PROVIDER, "GET"):
        raise httpx.ConnectError("refused")
    assert errors("unreachable") == before + 1
