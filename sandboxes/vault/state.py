"""The sandbox's memory: tokens with policies and TTLs, AppRoles, and versioned KV v2 secrets."""

import fnmatch
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def vault_time() -> str:
    """Vault's timestamp format (RFC 3339 with nanoseconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


@dataclass
class Token:
    id: str
    accessor: str
    policies: list[str]
    ttl_s: int  # 0 = never expires (the root token)
    issued_at: float = field(default_factory=time.monotonic)
    meta: dict[str, str] = field(default_factory=dict)
    revoked: bool = False

    def valid(self) -> bool:
        if self.revoked:
            return False
        return self.ttl_s == 0 or time.monotonic() - self.issued_at < self.ttl_s

    def remaining_s(self) -> int:
        return 0 if self.ttl_s == 0 else max(0, int(self.ttl_s - (time.monotonic() - self.issued_at)))


@dataclass
class AppRole:
    name: str
    role_id: str
    token_policies: list[str]
    token_ttl_s: int
    secret_ids: dict[str, str] = field(default_factory=dict)  # secret_id -> accessor


@dataclass
class KvVersion:
    data: dict[str, Any] | None
    created_time: str
    deletion_time: str = ""
    destroyed: bool = False


@dataclass
class KvSecret:
    versions: dict[int, KvVersion] = field(default_factory=dict)
    current_version: int = 0
    custom_metadata: dict[str, str] | None = None
    created_time: str = field(default_factory=vault_time)
    updated_time: str = field(default_factory=vault_time)


# Policy = path glob (as in an HCL policy's path "…/*") → capabilities.
Policy = dict[str, list[str]]


class VaultState:
    def __init__(self, root_token: str, kv_mounts: list[str]) -> None:
        self.tokens: dict[str, Token] = {root_token: Token(root_token, uuid.uuid4().hex, ["root"], ttl_s=0)}
        self.policies: dict[str, Policy] = {}
        self.approles: dict[str, AppRole] = {}
        self.kv: dict[str, dict[str, KvSecret]] = {mount: {} for mount in kv_mounts}
        self.logins = 0

    def token(self, token_id: str | None) -> Token | None:
        token = self.tokens.get(token_id or "")
        return token if token is not None and token.valid() else None

    def allowed(self, token: Token, path: str, capability: str) -> bool:
        if "root" in token.policies:
            return True
        for name in token.policies:
            for pattern, capabilities in self.policies.get(name, {}).items():
                if fnmatch.fnmatchcase(path, pattern) and capability in capabilities:
                    return True
        return False

    def issue_token(self, policies: list[str], ttl_s: int, meta: dict[str, str]) -> Token:
        token = Token(f"hvs.{secrets.token_urlsafe(24)}", uuid.uuid4().hex, policies, ttl_s, meta=meta)
        self.tokens[token.id] = token
        return token

    def approle_by_role_id(self, role_id: str) -> AppRole | None:
        return next((r for r in self.approles.values() if r.role_id == role_id), None)
