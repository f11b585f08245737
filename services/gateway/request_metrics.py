"""The gateway's request metrics: webhook accept latency per provider, checkouts per outcome.

Decorators, so the handlers stay about their work. Only provider names we know become label values:
a request for ``/v1/webhooks/<anything>`` must not grow the series without bound.
"""

import time
from collections.abc import Awaitable, Callable
from functools import update_wrapper, wraps
from typing import Concatenate, ParamSpec

from aiohttp import web

from services.gateway.idempotency import StoredAnswer
from shared.domain.checkout import CheckoutInput
from shared.domain.provider import Provider
from shared.observability.metrics import CHECKOUTS, WEBHOOK_ACCEPT_SECONDS

P = ParamSpec("P")
WEBHOOK_OUTCOMES = {200: "accepted", 401: "unauthorized"}


def timed_webhook(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @wraps(handler)
    async def timed(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        outcome = "error"  # raised: an outage answered by the error middleware
        try:
            response = await handler(request)
            outcome = WEBHOOK_OUTCOMES.get(response.status, "invalid")
            return response
        finally:
            provider = request.match_info.get("provider", "")
            if provider in set(Provider):
                WEBHOOK_ACCEPT_SECONDS.labels(provider, outcome).observe(time.perf_counter() - started)

    return timed


def counted_checkout(
    start: Callable[Concatenate[web.Request, CheckoutInput, P], Awaitable[StoredAnswer]],
) -> Callable[Concatenate[web.Request, CheckoutInput, P], Awaitable[StoredAnswer]]:
    """Counts each checkout answer: ``created`` or its error code (a bounded set)."""

    async def counted(
        request: web.Request, checkout: CheckoutInput, /, *args: P.args, **kwargs: P.kwargs
    ) -> StoredAnswer:
        outcome = "error"
        try:
            answer = await start(request, checkout, *args, **kwargs)
            outcome = "created" if answer.status < 300 else str(answer.body["error"]["code"])
            return answer
        finally:
            CHECKOUTS.labels(checkout.provider.value, outcome).inc()

    update_wrapper(counted, start)
    return counted
