"""Machine-readable error bodies (``shared/http/errors.py``) for every answer of the gateway.

``json_errors`` turns whatever a handler or middleware raises into that shape: aiohttp's own HTTP
errors keep their status; a dependency that is down (Postgres, Redis, Kafka, Vault) is a 503
``unavailable`` with ``Retry-After``, since it is transient; anything else is a 500 ``internal``
whose detail stays in the log. No route answers aiohttp's text/plain 500 page.
"""

import socket
import traceback
from typing import Any

import httpx
import structlog
from aiohttp import web
from aiokafka.errors import KafkaError
from asyncpg.exceptions import (
    InsufficientResourcesError,
    OperatorInterventionError,
    PostgresConnectionError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from shared.http.errors import error_response
from shared.observability.metrics import GATEWAY_DEPENDENCY_UNAVAILABLE

log = structlog.get_logger(__name__)
RETRY_AFTER_S = 5
# Raised when a dependency cannot be reached, is restarting, or answered too late. asyncpg's
# refused connections are plain ConnectionErrors, hence "network".
_OUTAGES: dict[str, tuple[type[BaseException], ...]] = {
    "redis": (RedisConnectionError, RedisTimeoutError),
    "kafka": (KafkaError,),
    "postgres": (
        PoolTimeoutError,
        PostgresConnectionError,
        OperatorInterventionError,
        InsufficientResourcesError,
    ),
    "network": (ConnectionError, TimeoutError, socket.gaierror, httpx.TransportError),
}


def unavailable_dependency(exc: BaseException) -> str | None:
    """The dependency whose outage ``exc`` (or what caused it) reports; None for anything else."""
    seen: BaseException | None = exc
    for _ in range(5):  # a short walk up the cause chain: drivers wrap each other's errors
        if seen is None:
            return None
        for dependency, kinds in _OUTAGES.items():
            if isinstance(seen, kinds):
                return dependency
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return "postgres"
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return None


def response_for_exception(request: web.Request, exc: Exception) -> web.Response:
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        GATEWAY_DEPENDENCY_UNAVAILABLE.labels(dependency).inc()
        log.warning(
            "dependency_unavailable", dependency=dependency, error=type(exc).__name__, path=request.path
        )
        response = error_response(503, "unavailable", "a service this request needs is down; retry later")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    # A plain traceback: a rich one would print frames' locals, presented API keys among them.
    log.error(
        "unhandled_error",
        path=request.path,
        method=request.method,
        traceback="".join(traceback.format_exception(exc)),
    )
    return error_response(500, "internal", "the request failed on our side; it has been logged")


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Installed innermost (handlers' errors, then audited and signed) and outermost (middlewares')."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except Exception as exc:  # the one place every unexpected error is answered
        return response_for_exception(request, exc)
