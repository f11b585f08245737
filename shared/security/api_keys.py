"""Gateway API keys: scoped, stored as SHA-256 hashes, optionally bound to one user (user tokens).

A key is ``bk_<prefix>_<32 random bytes, urlsafe>``; only its hash is kept, so a database dump
yields no usable key. The prefix is public and tells keys apart in listings.
"""

import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.audit_log import append_audit
from shared.db.security_models import ApiKey
from shared.domain.audit import AuditEntry
from shared.security.secret_values import SecretValue

KEY_PREFIX = "bk_"


class Scope(StrEnum):
    PACKS_READ = "packs:read"
    CHECKOUT_WRITE = "checkout:write"
    ENTITLEMENTS_READ = "entitlements:read"
    ADMIN = "admin"


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its scopes and, for a user token, the one user it may read."""

    key_id: uuid.UUID
    name: str
    scopes: frozenset[Scope]
    user_id: str | None
    rate_limit_per_minute: int | None

    @property
    def actor(self) -> str:
        return f"apikey:{self.key_id}"


@dataclass(frozen=True)
class IssuedKey:
    id: uuid.UUID
    prefix: str
    key: SecretValue  # shown once, to whoever created it
    expires_at: datetime | None


def hash_key(presented: str) -> str:
    return hashlib.sha256(presented.encode()).hexdigest()


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Known scopes only; raises ValueError naming the first unknown one."""
    scopes = set()
    for value in values:
        try:
            scopes.add(Scope(value))
        except ValueError:
            raise ValueError(f"unknown scope {value!r}; known: {', '.join(sorted(ALL_SCOPES))}") from None
    if not scopes:
        raise ValueError("a key needs at least one scope")
    return frozenset(scopes)


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    scopes: frozenset[Scope],
    created_by: str,
    user_id: str | None = None,
    ttl: timedelta | None = None,
    rate_limit_per_minute: int | None = None,
) -> IssuedKey:
    """Create a key (audited as an admin change); the caller's transaction commits it."""
    if user_id is not None and scopes != {Scope.ENTITLEMENTS_READ}:
        raise ValueError("a user token carries exactly the entitlements:read scope")
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = datetime.now(UTC) + ttl if ttl is not None else None
    row = ApiKey(
        id=uuid.uuid4(),
        prefix=prefix,
        key_hash=hash_key(key),
        name=name,
        scopes=sorted(scopes),
        user_id=user_id,
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    await append_audit(
        session,
        AuditEntry(
            actor=created_by,
            event="apikey.created",
            subject=f"apikey:{row.id}",
            details={"name": name, "scopes": sorted(scopes), "user_token": user_id is not None},
        ),
    )
    return IssuedKey(row.id, prefix, SecretValue(key), expires_at)


async def revoke_api_key(session: AsyncSession, id_or_prefix: str, revoked_by: str) -> ApiKey | None:
    """Revoke by id or public prefix; None when no live key matches."""
    condition = ApiKey.prefix == id_or_prefix
    with contextlib.suppress(ValueError):
        condition = or_(condition, ApiKey.id == uuid.UUID(id_or_prefix))
    row = (
        await session.execute(select(ApiKey).where(condition, ApiKey.revoked_at.is_(None)).with_for_update())
    ).scalar_one_or_none()
    if row is None:
        return None
    row.revoked_at = datetime.now(UTC)
    await append_audit(
        session, AuditEntry(actor=revoked_by, event="apikey.revoked", subject=f"apikey:{row.id}")
    )
    return row


async def list_api_keys(session: AsyncSession, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.created_at)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list((await session.execute(query)).scalars())


async def authenticate(session: AsyncSession, presented: str) -> Principal | None:
    """The principal of a live (unrevoked, unexpired) key; None for anything else."""
    if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
        return None
    row = (
        await session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(presented)))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        return None
    return Principal(
        key_id=row.id,
        name=row.name,
        scopes=frozenset(Scope(s) for s in row.scopes),
        user_id=row.user_id,
        rate_limit_per_minute=row.rate_limit_per_minute,
    )
