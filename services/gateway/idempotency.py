"""``Idempotency-Key`` for POST endpoints, kept in Postgres: the same key always gets the same answer.

A key belongs to the API key that sent it (another client's key never replays your answer). It is
claimed (a row with no answer yet) before the work starts, so two concurrent requests with one key
never both create a session. The claim lasts until it is completed or released: a created session
completes it in the transaction that records the session, so no failure can leave a recorded
session whose retry would create a second one. Answers are replayed verbatim for a day; a claim
orphaned by a crash also blocks its key for that day rather than risk a second invoice.
"""

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.models import IdempotencyKeyRecord
from shared.db.unit_of_work import unit_of_work

KEY_TTL_S = 24 * 3600


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """A key claimed by one request; ``stored`` is the earlier answer when the key was answered."""

    api_key_id: uuid.UUID
    key_hash: str
    stored: StoredAnswer | None = None


class IdempotencyConflictError(Exception):
    """The key is in use by a request still running, or was used with a different body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


class IdempotencyStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], scope: str) -> None:
        self._sessions = sessions
        self._scope = scope

    async def claim(self, api_key_id: uuid.UUID, idempotency_key: str, request_body: bytes) -> Claim:
        """Claim the key for this request, or return the claim holding its stored answer."""
        key_hash = _digest(f"{self._scope}:{idempotency_key}".encode())
        fingerprint = _digest(request_body)
        row = IdempotencyKeyRecord.__table__.c
        expired = row.created_at < text(f"now() - interval '{KEY_TTL_S} seconds'")
        claim = (
            insert(IdempotencyKeyRecord)
            .values(api_key_id=api_key_id, key_hash=key_hash, fingerprint=fingerprint)
            .on_conflict_do_update(
                index_elements=[row.api_key_id, row.key_hash],
                set_={"fingerprint": fingerprint, "status": None, "body": None, "created_at": text("now()")},
                where=expired,  # a day-old key is forgotten, answered or not
            )
            .returning(row.key_hash)
        )
        async with unit_of_work(self._sessions) as session:
            if (await session.execute(claim)).first() is not None:
                return Claim(api_key_id, key_hash)
            held = (
                await session.execute(
                    select(IdempotencyKeyRecord).where(
                        and_(row.api_key_id == api_key_id, row.key_hash == key_hash)
                    )
                )
            ).scalar_one_or_none()
        if held is None:  # released between the two statements: claim again
            return await self.claim(api_key_id, idempotency_key, request_body)
        if held.fingerprint != fingerprint:
            raise IdempotencyConflictError(
                "idempotency_key_reused", "Idempotency-Key was used with a different request body"
            )
        if held.status is None:
            raise IdempotencyConflictError(
                "idempotency_in_progress", "a request with this Idempotency-Key is still running"
            )
        return Claim(api_key_id, key_hash, StoredAnswer(status=held.status, body=held.body or {}))

    async def complete(self, claim: Claim, answer: StoredAnswer, session: AsyncSession | None = None) -> None:
        """Store the answer; pass ``session`` to do it in the transaction that made the answer true."""
        store = (
            update(IdempotencyKeyRecord)
            .where(
                IdempotencyKeyRecord.api_key_id == claim.api_key_id,
                IdempotencyKeyRecord.key_hash == claim.key_hash,
                IdempotencyKeyRecord.status.is_(None),
            )
            .values(status=answer.status, body=answer.body)
        )
        if session is not None:
            await session.execute(store)
            return
        async with unit_of_work(self._sessions) as own:
            await own.execute(store)

    async def release(self, claim: Claim) -> None:
        """Forget a claim whose work failed, so the client may retry with the same key."""
        async with unit_of_work(self._sessions) as session:
            await session.execute(
                delete(IdempotencyKeyRecord).where(
                    IdempotencyKeyRecord.api_key_id == claim.api_key_id,
                    IdempotencyKeyRecord.key_hash == claim.key_hash,
                    IdempotencyKeyRecord.status.is_(None),
                )
            )
