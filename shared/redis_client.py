"""The one way we connect to Redis: explicit timeouts instead of the client's version defaults."""

from redis.asyncio import Redis

from shared.settings import Settings


def create_redis(settings: Settings, url: str | None = None) -> Redis:
    """A client for ``url`` (default ``settings.redis_url``) whose calls fail within the timeouts."""
    return Redis.from_url(
        url or settings.redis_url,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_connect_timeout_s,
    )
