"""Where secrets live: the ``SecretStore`` interface and the env/file back end (default, local runs).

The env/file store reads ``CoreSettings`` (``BILLING_<NAME>`` and ``BILLING_<NAME>_PREVIOUS``) overlaid by
``<secrets_dir>/<name>.json``, the file ``billing secrets rotate`` writes (mode 0600, atomic replace).
"""

import asyncio
import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from shared.core_settings import CoreSettings, flat_settings
from shared.security.secret_values import SecretValue, SecretVersions


class SecretConflictError(Exception):
    """Someone else changed the secret since it was read (check-and-set failed)."""


class SecretStore(Protocol):
    async def read(self, name: str) -> SecretVersions | None:
        """The stored versions of ``name``, or None when it has none."""

    async def write(self, versions: SecretVersions) -> SecretVersions:
        """Store ``versions``; ``versions.version`` is the one read (check-and-set where supported)."""


def record_of(versions: SecretVersions) -> dict[str, Any]:
    """The stored form (one JSON object / one Vault KV secret)."""
    return {
        "current": versions.current.reveal(),
        "previous": versions.previous.reveal() if versions.previous else None,
        "previous_valid_until": (
            versions.previous_valid_until.isoformat() if versions.previous_valid_until else None
        ),
        "rotated_at": versions.rotated_at.isoformat() if versions.rotated_at else None,
    }


def versions_of(
    name: str, record: dict[str, Any], version: int | None = None, written_at: datetime | None = None
) -> SecretVersions:
    """``written_at`` (when the back end stored the record) dates a record written without ``rotated_at``."""
    previous = record.get("previous")
    until = record.get("previous_valid_until")
    rotated_at = record.get("rotated_at")
    return SecretVersions(
        name=name,
        current=SecretValue(str(record.get("current") or "")),
        previous=SecretValue(previous) if previous else None,
        previous_valid_until=datetime.fromisoformat(until) if until else None,
        version=version,
        rotated_at=datetime.fromisoformat(rotated_at) if rotated_at else written_at,
    )


class EnvFileSecretStore:
    def __init__(self, settings: CoreSettings) -> None:
        self._settings = settings
        self._dir = Path(settings.secrets_dir)

    def _file(self, name: str) -> Path:
        return self._dir / f"{name}.json"

    async def read(self, name: str) -> SecretVersions | None:
        return await asyncio.to_thread(self._read, name)

    def _read(self, name: str) -> SecretVersions | None:
        path = self._file(name)
        if path.exists():
            record = json.loads(path.read_text())
            written_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            return versions_of(name, record, version=int(record.get("version", 0)), written_at=written_at)
        current = _setting(self._settings, name)
        if not current:
            return None
        return SecretVersions(name, SecretValue(current), _previous_setting(self._settings, name))

    async def write(self, versions: SecretVersions) -> SecretVersions:
        return await asyncio.to_thread(self._write, versions)

    def _write(self, versions: SecretVersions) -> SecretVersions:
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # One writer at a time across processes, so check-and-set holds between two CLIs or replicas.
        with (self._dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._write_locked(versions)

    def _write_locked(self, versions: SecretVersions) -> SecretVersions:
        path = self._file(versions.name)
        stored = self._read(versions.name)
        if path.exists() and stored is not None and stored.version != versions.version:
            raise SecretConflictError(f"secret {versions.name!r} changed since it was read")
        new_version = (versions.version or 0) + 1
        record = record_of(versions) | {"version": new_version}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(record, out)
        os.replace(tmp, path)
        return versions_of(versions.name, record, new_version)


def _setting(settings: CoreSettings, name: str) -> str:
    value = flat_settings(settings).get(name)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return str(value) if value else ""


def _previous_setting(settings: CoreSettings, name: str) -> SecretValue | None:
    previous = _setting(settings, f"{name}_previous")
    return SecretValue(previous) if previous else None
