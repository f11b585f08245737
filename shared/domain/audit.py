"""Audit log entries and the hash chain's rules, pure: a row's digests and storable values, a link's
hash, a chain head and its anchor. Written by shared/db/audit_log.py, sealed and verified by
shared/security/audit_chain.py.

A writer inserts a row with the digests of its subject and details but no chain position or hashes,
so concurrent writers (every gateway request, every worker batch) never wait for one another. The
one sealer (shared/security/audit_sealer.py) chains the rows in id order afterwards; the caller's
transaction still decides whether its row exists: an entitlement change and its audit row commit
(or roll back) together.
"""

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
ERASED_PREFIX = "erased:"
# Postgres text and jsonb refuse NUL; an audit row must never fail (or be lost) because of one.
NUL = "\x00"
NUL_STAND_IN = "\ufffd"


@dataclass(frozen=True)
class AuditEntry:
    actor: str  # "apikey:<id>", "provider:revenuecat", "cli:<os user>", "service:worker" …
    event: str  # "webhook.verified", "entitlement.changed", "secret.rotated" …
    subject: str  # "user:<id>", "secret:<name>", "apikey:<id>", "webhook:<provider>" …
    details: Mapping[str, Any] | None = None


def user_subject(user_id: str) -> str:
    return f"user:{user_id}"


def canonical_json(value: Any) -> bytes:
    """One byte form per JSON value (sorted keys, no spaces), the same before and after JSONB."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def details_digest(details: Mapping[str, Any] | None) -> str:
    return hashlib.sha256(canonical_json(details)).hexdigest()


def subject_digest(salt: str, subject: str) -> str:
    return hashlib.sha256(f"{salt}\x1f{subject}".encode()).hexdigest()


def _time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def chain_hash(
    prev_hash: str, seq: int, occurred_at: datetime, actor: str, event: str, subj_digest: str, det_digest: str
) -> str:
    fields = [prev_hash, str(seq), _time_text(occurred_at), actor, event, subj_digest, det_digest]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def _storable(text: str) -> str:
    return text.replace(NUL, NUL_STAND_IN) if NUL in text else text


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, dict):
        return {_storable(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _storable_details(details: Mapping[str, Any]) -> dict[str, Any]:
    # Stored exactly as hashed: round-trip through canonical JSON (datetimes etc. become strings).
    stored: dict[str, Any] = _without_nul(json.loads(canonical_json(dict(details))))
    return stored


def audit_row_values(entry: AuditEntry, occurred_at: datetime | None = None) -> dict[str, Any]:
    """The column values of ``entry`` as an unsealed row (its ``seq`` comes from the identity)."""
    details = _storable_details(entry.details) if entry.details is not None else None
    subject = _storable(entry.subject)
    salt = secrets.token_hex(16)
    return {
        "occurred_at": occurred_at or datetime.now(UTC),
        "actor": _storable(entry.actor),
        "event": _storable(entry.event),
        "subject": subject,
        "subject_salt": salt,
        "subject_digest": subject_digest(salt, subject),
        "details": details,
        "details_digest": details_digest(details),
    }


@dataclass(frozen=True)
class ChainHead:
    position: int  # 0 = nothing sealed yet
    row_hash: str


@dataclass(frozen=True)
class Anchor:
    """A chain head as published outside the database."""

    position: int
    row_hash: str
    sealed_at: datetime
