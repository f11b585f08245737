"""The secret provider: wrapped values, rotation windows, re-reading on rotation, check-and-set."""

import asyncio
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.connectors.registry import secret_specs
from shared.security.secret_stores import EnvFileSecretStore, SecretConflictError
from shared.security.secret_values import SecretValue, SecretVersions
from shared.security.secrets import Matched, SecretProvider
from shared.settings import Settings

NAME = "revenuecat_webhook_authorization"


class Clock:
    """Wall and monotonic time the test moves by hand."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 1, 1, tzinfo=UTC)
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


def provider_for(tmp_path: Path, clock: Clock, **settings: object) -> SecretProvider:
    store = EnvFileSecretStore(Settings(secrets_dir=str(tmp_path), **settings))  # type: ignore[arg-type]
    return SecretProvider(
        store, secret_specs(), 30.0, 3600, wall_clock=lambda: clock.wall, monotonic=lambda: clock.mono
    )


def accepts(value: str):  # type: ignore[no-untyped-def]
    return lambda secret: secret.equals(value)


def test_secret_value_never_shows_in_repr_str_or_format() -> None:
    value = SecretValue("Bearer very-secret")
    shown = [repr(value), str(value), f"{value}", f"{value!r}", repr([value]), repr({"k": value})]
    assert all("very-secret" not in text for text in shown)


def test_secret_value_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(SecretValue("x"))


def test_secret_versions_repr_hides_both_values() -> None:
    versions = SecretVersions("n", SecretValue("current-value"), SecretValue("previous-value"))
    assert "current-value" not in repr(versions) and "previous-value" not in repr(versions)


async def test_env_setting_is_read_when_no_file_exists(tmp_path: Path) -> None:
    provider = provider_for(tmp_path, Clock(), revenuecat_webhook_authorization="Bearer env")
    assert await provider.verify(NAME, accepts("Bearer env")) is Matched.CURRENT


async def test_previous_value_verifies_inside_the_rotation_window(tmp_path: Path) -> None:
    clock = Clock()
    provider = provider_for(tmp_path, clock, revenuecat_webhook_authorization="Bearer old")
    await provider.rotate(NAME, "Bearer new", window_s=600)
    clock.advance(599)
    assert await provider.verify(NAME, accepts("Bearer old")) is Matched.PREVIOUS


async def test_previous_value_is_refused_after_the_rotation_window(tmp_path: Path) -> None:
    clock = Clock()
    provider = provider_for(tmp_path, clock, revenuecat_webhook_authorization="Bearer old")
    await provider.rotate(NAME, "Bearer new", window_s=600)
    clock.advance(600)
    assert await provider.verify(NAME, accepts("Bearer old")) is None


async def test_only_the_new_value_signs_after_rotation(tmp_path: Path) -> None:
    provider = provider_for(tmp_path, Clock(), ack_signing_secret="whsec_b2xk")
    await provider.rotate("ack_signing_secret")
    current = await provider.current("ack_signing_secret")
    assert current.reveal().startswith("whsec_") and current.reveal() != "whsec_b2xk"


async def test_rotation_by_another_process_is_seen_on_a_failed_verification(tmp_path: Path) -> None:
    clock = Clock()
    gateway = provider_for(tmp_path, clock, revenuecat_webhook_authorization="Bearer old")
    assert await gateway.verify(NAME, accepts("Bearer old")) is Matched.CURRENT  # cached now
    await provider_for(tmp_path, clock).rotate(NAME, "Bearer new")  # the CLI, elsewhere
    clock.advance(1.5)  # well inside the 30 s cache TTL
    assert await gateway.verify(NAME, accepts("Bearer new")) is Matched.CURRENT


async def test_ending_the_window_refuses_the_previous_value(tmp_path: Path) -> None:
    clock = Clock()
    provider = provider_for(tmp_path, clock, revenuecat_webhook_authorization="Bearer old")
    await provider.rotate(NAME, "Bearer new")
    await provider.end_rotation_window(NAME)
    assert await provider.verify(NAME, accepts("Bearer old")) is None


async def test_unconfigured_secret_verifies_nothing(tmp_path: Path) -> None:
    assert await provider_for(tmp_path, Clock()).verify("btcpay_webhook_secret", lambda _: True) is None


async def test_concurrent_rotation_loses_the_check_and_set(tmp_path: Path) -> None:
    store = EnvFileSecretStore(Settings(secrets_dir=str(tmp_path)))
    first = await store.write(SecretVersions(NAME, SecretValue("Bearer a")))
    await store.write(SecretVersions(NAME, SecretValue("Bearer b"), version=first.version))
    with pytest.raises(SecretConflictError):
        await store.write(SecretVersions(NAME, SecretValue("Bearer c"), version=first.version))


async def test_rotated_secret_file_is_private_to_its_owner(tmp_path: Path) -> None:
    await provider_for(tmp_path, Clock()).rotate(NAME)
    assert (tmp_path / f"{NAME}.json").stat().st_mode & 0o077 == 0


async def test_provider_issued_credential_needs_its_new_value(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="issued by the provider"):
        await provider_for(tmp_path, Clock()).rotate("btcpay_api_key")


async def test_concurrent_first_uses_generate_one_value(tmp_path: Path) -> None:
    """Many first uses at once (a process's first requests, or two replicas) store one value: a value
    stored meanwhile is kept, never replaced by a second generation."""
    provider = provider_for(tmp_path, Clock())
    other_replica = provider_for(tmp_path, Clock())
    name = "telemetry_pseudonym_secret"

    values = await asyncio.gather(
        *(replica.ensure_generated(name) for _ in range(10) for replica in (provider, other_replica))
    )

    assert len({value.reveal() for value in values}) == 1
    stored = await EnvFileSecretStore(Settings(secrets_dir=str(tmp_path))).read(name)
    assert stored is not None and stored.version == 1
