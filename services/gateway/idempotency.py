"""``Idempotency-Key`` for POST endpoints, kept in Redis: the same key always gets the same answer.

A key is claimed with SET NX before the work starts, so two concurrent requests with one key
never both create a session; the finished answer is stored for a day and replayed verbatim.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

KEY_TTL_S = 24 * 3600
PENDING_TTL_S = 60


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]


class IdempotencyConflictError(Exception):
    """The key is in use by a request still running, or was used with a different body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class IdempotencyStore:
    def __init__(self, redis: Redis, scope: str) -> None:
        self._redis = redis
        self._scope = scope

    def _key(self, idempotency_key: str) -> str:
        return f"idempotency:{self._scope}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"

    async def claim(self, idempotency_key: str, request_body: bytes) -> StoredAnswer | None:
        """Claim the key; returns the stored answer when this key was already answered."""
        fingerprint = hashlib.sha256(request_body).hexdigest()
        key = self._key(idempotency_key)
        pending = orjson.dumps({"state": "pending", "fingerprint": fingerprint})
        if await self._redis.set(key, pending, nx=True, ex=PENDING_TTL_S):
            return None
        stored = await self._redis.get(key)
        if stored is None:  # expired between the two calls: claim again
            return await self.claim(idempotency_key, request_body)
        record = orjson.loads(stored)
        if record["fingerprint"] != fingerprint:
            raise IdempotencyConflictError(
                "idempotency_key_reused", "Idempotency-Key was used with a different request body"
            )
        if record["state"] == "pending":
            raise IdempotencyConflictError(
                "idempotency_in_progress", "a request with this Idempotency-Key is still running"
            )
        return StoredAnswer(status=record["status"], body=record["body"])

    async def complete(self, idempotency_key: str, request_body: bytes, answer: StoredAnswer) -> None:
        record = {
            "state": "done",
            "fingerprint": hashlib.sha256(request_body).hexdigest(),
            "status": answer.status,
            "body": answer.body,
        }
        await self._redis.set(self._key(idempotency_key), orjson.dumps(record), ex=KEY_TTL_S)

    async def release(self, idempotency_key: str) -> None:
        """Forget a claim whose work failed, so the client may retry with the same key."""
        await self._redis.delete(self._key(idempotency_key))
