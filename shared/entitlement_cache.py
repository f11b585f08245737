"""Users' feature grants cached in Redis, never stale once an entitlement event has been emitted.

The outbox relay bumps a per-user version (and, for catalog events, a catalog version) *before*
it publishes an event. A reader reads both versions with the cached entry in one MGET and uses
the entry only when its versions are current; after a miss it loads Postgres and stores the result
with a Lua check-and-set that refuses if a version moved meanwhile. So a reader that loaded a row
older than the change can never write it back over the invalidation.

Redis failing is not an error for readers: ``grants`` answers from ``load`` (Postgres) and counts
it in ``billing_feature_cache_bypassed_total``. While Redis is unreachable the relay cannot
invalidate, so an entry cached before a revocation made meanwhile would look current once Redis
is back. Hence a cache that saw Redis fail distrusts every entry: its next successful call first
bumps the catalog version (which every entry carries), then reads. The relay retries its own
invalidation before it publishes, so the usual promise holds as well.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.catalog.grants import FeatureGrant
from shared.core_settings import CoreSettings
from shared.db.models import Outbox
from shared.observability.metrics import FEATURE_CACHE_BYPASSED

log = structlog.get_logger(__name__)

ENTRY_TTL_S = 3600
# Long enough that no reader's load outlives it, short enough to forget users who left.
VERSION_TTL_S = 30 * 86400

STORE_IF_CURRENT = """
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] and (redis.call('GET', KEYS[2]) or '0') == ARGV[2] then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
  return 1
end
return 0
"""


class FeatureCache:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"{namespace}features"
        self._store_if_current = redis.register_script(STORE_IF_CURRENT)
        # Set when Redis failed: entries may predate invalidations that could not be made.
        self._entries_suspect = False

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> "FeatureCache":
        return cls(Redis.from_url(settings.redis_url), settings.namespace)

    def _keys(self, user_id: str) -> tuple[str, str, str]:
        return (
            f"{self._prefix}:version:{user_id}",
            f"{self._prefix}:catalog-version",
            f"{self._prefix}:grants:{user_id}",
        )

    async def grants(
        self, user_id: str, load: Callable[[], Awaitable[list[FeatureGrant]]]
    ) -> list[FeatureGrant]:
        """The user's grants from the cache when current, else from ``load`` (and then cached)."""
        keys = self._keys(user_id)
        try:
            versions, cached = await self._current_entry(*keys)
        except RedisError as exc:
            self._bypassed(exc)
            return await load()
        if cached is not None:
            return cached
        grants = await load()
        value = orjson.dumps({"versions": versions, "grants": [g.to_json() for g in grants]})
        try:
            await self._store_if_current(keys=list(keys), args=[*versions, value, ENTRY_TTL_S])
        except RedisError as exc:
            self._bypassed(exc)
        return grants

    async def _current_entry(
        self, version_key: str, catalog_key: str, entry_key: str
    ) -> tuple[list[str], list[FeatureGrant] | None]:
        """The versions now, and the cached grants if they were cached at those versions."""
        if self._entries_suspect:
            await self.invalidate_catalog()
            self._entries_suspect = False
        user_version, catalog_version, entry = await self._redis.mget(version_key, catalog_key, entry_key)
        versions = [_text(user_version), _text(catalog_version)]
        if entry is not None:
            cached = orjson.loads(entry)
            if cached["versions"] == versions:
                return versions, [FeatureGrant.from_json(g) for g in cached["grants"]]
        return versions, None

    def _bypassed(self, exc: RedisError) -> None:
        self._entries_suspect = True
        FEATURE_CACHE_BYPASSED.inc()
        log.warning("feature_cache_bypassed", error=type(exc).__name__)

    async def invalidate_users(self, user_ids: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for user_id in set(user_ids):
                version_key, _, entry_key = self._keys(user_id)
                pipe.incr(version_key)
                pipe.expire(version_key, VERSION_TTL_S)
                pipe.delete(entry_key)
            await pipe.execute()

    async def invalidate_catalog(self) -> None:
        """Pack features changed: every cached entry is out of date."""
        await self._redis.incr(self._keys("")[1])

    async def invalidate_for_outbox(self, rows: Sequence[Outbox]) -> None:
        """Called by the outbox relay before it publishes ``rows``."""
        users = {row.key for row in rows if row.event_type.startswith("entitlement.")}
        if users:
            await self.invalidate_users(users)
        if any(row.event_type.startswith("catalog.") for row in rows):
            await self.invalidate_catalog()


def _text(value: bytes | str | None) -> str:
    if value is None:
        return "0"
    return value.decode() if isinstance(value, bytes) else value
