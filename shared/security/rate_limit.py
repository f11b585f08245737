"""Per-key rate limiting in Redis: a fixed one-minute window counter per API key.

INCR + EXPIRE in one pipeline; every gateway replica shares the counter. A window edge can let
through up to twice the limit in a short burst (documented in docs/security.md).

Best effort while Redis is down: the request is let through (fail open), logged and counted in
``billing_rate_limit_unenforced_total``, so an outage of the counter never takes reads down.
"""

import math
import time
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.observability.metrics import RATE_LIMIT_UNENFORCED

log = structlog.get_logger(__name__)
WINDOW_S = 60


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int


class RateLimiter:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._namespace = namespace

    async def hit(self, key_id: str, limit: int) -> RateDecision:
        now = time.time()
        window = int(now // WINDOW_S)
        counter = f"{self._namespace}ratelimit:{key_id}:{window}"
        retry_after = max(1, math.ceil((window + 1) * WINDOW_S - now))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(counter)
                pipe.expire(counter, WINDOW_S * 2)
                count, _ = await pipe.execute()
        except RedisError as exc:
            RATE_LIMIT_UNENFORCED.inc()
            log.warning("rate_limit_unenforced", key_id=key_id, error=type(exc).__name__)
            return RateDecision(allowed=True, limit=limit, remaining=limit, retry_after_s=retry_after)
        return RateDecision(
            allowed=int(count) <= limit,
            limit=limit,
            remaining=max(0, limit - int(count)),
            retry_after_s=retry_after,
        )
