"""The secret provider: one interface for every provider secret and signing key.

Values are cached for ``secret_cache_ttl_s`` and re-read on rotation: a verification that fails
against cached values re-reads the store (at most once a second per name) before it says no, so a
rotated value is accepted at once. Only the current value signs; current and previous both verify
until the rotation window ends.
"""

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from shared.core_settings import CoreSettings
from shared.security.secret_names import SecretKind, SecretSpecs, spec_of
from shared.security.secret_stores import EnvFileSecretStore, SecretConflictError, SecretStore
from shared.security.secret_values import SecretNotConfiguredError, SecretValue, SecretVersions

MIN_REFRESH_INTERVAL_S = 1.0


class Matched(StrEnum):
    CURRENT = "current"
    PREVIOUS = "previous"


@dataclass(frozen=True)
class Rotation:
    """What ``rotate`` did: the new versions and until when the old value still verifies."""

    versions: SecretVersions
    previous_valid_until: datetime | None


@dataclass
class _Cached:
    versions: SecretVersions | None
    read_at: float


class SecretProvider:
    def __init__(
        self,
        store: SecretStore,
        specs: SecretSpecs,
        ttl_s: float,
        rotation_window_s: int,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._specs = specs
        self._ttl_s = ttl_s
        self._rotation_window = timedelta(seconds=rotation_window_s)
        self._now = wall_clock
        self._monotonic = monotonic
        self._cache: dict[str, _Cached] = {}

    async def _read(self, name: str) -> SecretVersions | None:
        versions = await self._store.read(name)
        self._cache[name] = _Cached(versions, self._monotonic())
        return versions

    async def versions(self, name: str) -> SecretVersions:
        """Current and previous values of ``name`` (cached); raises when it has none."""
        cached = self._cache.get(name)
        if cached is None or self._monotonic() - cached.read_at >= self._ttl_s:
            versions = await self._read(name)
        else:
            versions = cached.versions
        if versions is None or not versions.current:
            raise SecretNotConfiguredError(name)
        return versions

    async def current(self, name: str) -> SecretValue:
        """The value to sign or authenticate with."""
        return (await self.versions(name)).current

    async def is_configured(self, name: str) -> bool:
        try:
            await self.versions(name)
        except SecretNotConfiguredError:
            return False
        return True

    async def verify(self, name: str, check: Callable[[SecretValue], bool]) -> Matched | None:
        """Which value (current or previous in its window) ``check`` accepts; None when neither does.

        A secret with no value configured verifies nothing (the caller answers 401, not 500).
        """
        try:
            versions = await self.versions(name)
        except SecretNotConfiguredError:
            return None
        matched = self._first_match(versions, check)
        cached = self._cache.get(name)
        if matched is None and cached and self._monotonic() - cached.read_at >= MIN_REFRESH_INTERVAL_S:
            refreshed = await self._read(name)  # maybe rotated since we cached it
            if refreshed is not None:
                matched = self._first_match(refreshed, check)
        return matched

    def _first_match(self, versions: SecretVersions, check: Callable[[SecretValue], bool]) -> Matched | None:
        for position, value in enumerate(versions.verifying(self._now())):
            if check(value):
                return Matched.CURRENT if position == 0 else Matched.PREVIOUS
        return None

    async def rotate(
        self,
        name: str,
        new_value: str | None = None,
        window_s: int | None = None,
        *,
        only_if_unset: bool = False,
    ) -> Rotation:
        """Make ``new_value`` (or a generated one) current; the old one verifies for the window.
        With ``only_if_unset`` a value already stored is kept (and returned) instead."""
        spec = spec_of(self._specs, name)
        if new_value is None:
            if spec.generate is None:
                raise ValueError(f"{name} is issued by the provider: pass its new value")
            new_value = spec.generate()
        old = await self._store.read(name)
        if only_if_unset and old is not None and old.current:
            self._cache.pop(name, None)
            return Rotation(old, None)
        window = timedelta(seconds=window_s) if window_s is not None else self._rotation_window
        keep_previous = old is not None and bool(old.current) and spec.kind is not SecretKind.CREDENTIAL
        until = self._now() + window if keep_previous else None
        rotated = SecretVersions(
            name=name,
            current=SecretValue(new_value),
            previous=old.current if keep_previous and old else None,
            previous_valid_until=until,
            version=old.version if old else None,
            rotated_at=self._now(),
        )
        stored = await self._store.write(rotated)
        self._cache.pop(name, None)
        return Rotation(stored, until)

    async def end_rotation_window(self, name: str) -> SecretVersions:
        """Stop accepting the previous value now (the provider already sends the new one)."""
        old = await self._store.read(name)
        if old is None:
            raise SecretNotConfiguredError(name)
        kept = SecretVersions(name=name, current=old.current, version=old.version, rotated_at=old.rotated_at)
        stored = await self._store.write(kept)
        self._cache.pop(name, None)
        return stored

    async def ensure_generated(self, name: str) -> SecretValue:
        """The current value, generating and storing one first if ``name`` has none yet.

        Only then: several first uses at once (this process's or another replica's) may all find it
        unset, and the first value stored is the one every later use gets."""
        if not await self.is_configured(name):
            with contextlib.suppress(SecretConflictError):  # another replica generated it first
                await self.rotate(name, only_if_unset=True)
            self._cache.pop(name, None)
        return await self.current(name)


def build_secret_provider(settings: CoreSettings, specs: SecretSpecs) -> SecretProvider:
    """The provider for the configured back end (env/file by default, Vault when configured)."""
    store: SecretStore
    if settings.secret_backend == "vault":  # noqa: S105 (a back-end name)
        from shared.security.vault_store import VaultSecretStore

        store = VaultSecretStore(settings)
    else:
        store = EnvFileSecretStore(settings)
    return SecretProvider(store, specs, settings.secret_cache_ttl_s, settings.secret_rotation_window_s)
