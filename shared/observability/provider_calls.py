"""Latency and failures of every call to an outside provider (RevenueCat, BTCPay, NWC, price oracle).

The clients wrap their one request site: ``with provider_call("btcpay", method) as call:`` around the
request, then ``call.answered(status)``. A retried call counts each attempt, as the provider saw it.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from shared.observability.metrics import PROVIDER_CALL_ERRORS, PROVIDER_CALL_SECONDS


def failure_kind(status: int) -> str | None:
    """How an HTTP answer failed, or None when it did not."""
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "rejected"
    return None


class ProviderCall:
    def __init__(self, provider: str, method: str) -> None:
        self._labels = (provider, method)

    def answered(self, status: int) -> None:
        """The provider's HTTP status; a failing one is counted by its kind."""
        if kind := failure_kind(status):
            self.failed(kind)

    def failed(self, kind: str) -> None:
        PROVIDER_CALL_ERRORS.labels(*self._labels, kind).inc()


@contextmanager
def provider_call(provider: str, method: str) -> Iterator[ProviderCall]:
    """Times the block; an exception out of it (transport failure, timeout) counts as ``unreachable``."""
    call = ProviderCall(provider, method)
    started = time.perf_counter()
    try:
        yield call
    except Exception:
        call.failed("unreachable")
        raise
    finally:
        PROVIDER_CALL_SECONDS.labels(provider, method).observe(time.perf_counter() - started)
