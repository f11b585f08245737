"""HashiCorp Vault back end: KV v2 through ``hvac``, with token or AppRole authentication.

One KV secret per name at ``<mount>/data/<prefix>/<name>`` holding current / previous /
previous_valid_until. Writes use check-and-set, so two concurrent rotations cannot both win.
AppRole tokens expire: on 403 the store logs in again once and retries.
"""

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import hvac
from hvac import exceptions as vault_errors

from shared.core_settings import CoreSettings
from shared.security.secret_stores import SecretConflictError, record_of, versions_of
from shared.security.secret_values import SecretVersions

T = TypeVar("T")


class VaultUnavailableError(Exception):
    """Vault could not be reached or refused us; the message never carries a token or value."""


class VaultSecretStore:
    def __init__(self, settings: CoreSettings) -> None:
        self._settings = settings
        self._client = hvac.Client(url=settings.vault_url, timeout=settings.vault_timeout_s)
        self._lock = threading.Lock()
        self._logged_in = False

    def _login(self) -> None:
        settings = self._settings
        if settings.vault_role_id:
            try:
                self._client.auth.approle.login(
                    role_id=settings.vault_role_id,
                    secret_id=settings.vault_secret_id.get_secret_value() or None,
                    mount_point=settings.vault_approle_mount,
                )
            except vault_errors.VaultError as exc:
                # Vault's own words ("invalid role or secret ID"); hvac never puts the secret id in them.
                raise VaultUnavailableError(f"vault AppRole login failed: {exc}") from None
        else:
            self._client.token = settings.vault_token.get_secret_value()
        self._logged_in = True

    def _call(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` authenticated; one fresh AppRole login on 403 (expired token)."""
        with self._lock:
            try:
                if not self._logged_in:
                    self._login()
                try:
                    return operation()
                except vault_errors.Forbidden:
                    if not self._settings.vault_role_id:
                        raise
                    self._login()
                    return operation()
            except (vault_errors.InvalidPath, vault_errors.InvalidRequest, VaultUnavailableError):
                raise
            except (vault_errors.VaultError, OSError) as exc:
                # hvac messages carry Vault's error text and the URL, never our token or values.
                raise VaultUnavailableError(f"vault: {type(exc).__name__}: {exc}") from None

    def _path(self, name: str) -> str:
        return f"{self._settings.vault_path_prefix}/{name}"

    async def read(self, name: str) -> SecretVersions | None:
        return await asyncio.to_thread(self._read, name)

    def _read(self, name: str) -> SecretVersions | None:
        try:
            response: dict[str, Any] = self._call(
                lambda: self._client.secrets.kv.v2.read_secret_version(
                    path=self._path(name),
                    mount_point=self._settings.vault_kv_mount,
                    raise_on_deleted_version=True,
                )
            )
        except vault_errors.InvalidPath:
            return None
        data = response["data"]
        created = data["metadata"].get("created_time")
        return versions_of(
            name,
            data["data"],
            version=int(data["metadata"]["version"]),
            written_at=datetime.fromisoformat(created) if created else None,
        )

    async def write(self, versions: SecretVersions) -> SecretVersions:
        return await asyncio.to_thread(self._write, versions)

    def _write(self, versions: SecretVersions) -> SecretVersions:
        record = record_of(versions)
        try:
            response: dict[str, Any] = self._call(
                lambda: self._client.secrets.kv.v2.create_or_update_secret(
                    path=self._path(versions.name),
                    secret=record,
                    cas=versions.version or 0,
                    mount_point=self._settings.vault_kv_mount,
                )
            )
        except vault_errors.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise SecretConflictError(f"secret {versions.name!r} changed since it was read") from None
            raise VaultUnavailableError(f"vault rejected the write: {exc}") from None
        return versions_of(versions.name, record, version=int(response["data"]["version"]))
