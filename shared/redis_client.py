"""The one way we connect to Redis: explicit timeouts instead of the client's version defaults."""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from shared.core_settings import CoreSettings

REDIS_RETRIES = 1


def create_redis(settings: CoreSettings, url: str | None = None) -> Redis:
    """A client for ``url`` (default ``settings.redis_url``) whose calls fail within the timeouts."""
    # Redis only speeds things up (rate limits and caches fail open, the relay retries): an outage
    # costs a call its timeout and one retry, not redis-py's default of retries with backoff.
    return Redis.from_url(
        url or settings.redis_url,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        retry=Retry(NoBackoff(), REDIS_RETRIES),
    )
