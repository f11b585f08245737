"""Secret age for the rotation policy: rotations record when a value became current, catalog_sync's
gauges show the age against the policy and an overdue secret is logged once a day."""

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from apps.cli.main import app
from shared.backlog_metrics.backlog_gauges import BacklogGauges
from shared.backlog_metrics.kafka_backlog import KafkaBacklog
from shared.backlog_metrics.secret_age import SecretAge, secret_ages
from shared.connectors.registry import secret_specs
from shared.messaging.topics import Topics
from shared.observability.metrics import SECRET_AGE_SECONDS, SECRET_AGE_UNKNOWN, SECRET_MAX_AGE_SECONDS
from shared.security.secret_stores import EnvFileSecretStore
from shared.security.secrets import SecretProvider, build_secret_provider
from shared.settings import Settings, get_settings
from tests.unit.test_security_secrets import Clock

DAY = 86400.0
SIGNING = "ack_signing_secret"
FROM_ENV = "revenuecat_webhook_authorization"


def provider_for(tmp_path: Path, clock: Clock, **settings: object) -> SecretProvider:
    store = EnvFileSecretStore(Settings(secrets_dir=str(tmp_path), **settings))  # type: ignore[arg-type]
    return SecretProvider(
        store, secret_specs(), 0.0, 3600, wall_clock=lambda: clock.wall, monotonic=lambda: clock.mono
    )


def gauge(metric: object, secret: str) -> float | None:
    for family in metric.collect():  # type: ignore[attr-defined]
        for sample in family.samples:
            if sample.labels.get("secret") == secret:
                return float(sample.value)
    return None


async def test_a_rotation_starts_the_age_and_the_window_end_keeps_it(tmp_path: Path) -> None:
    clock = Clock()
    secrets = provider_for(tmp_path, clock)
    await secrets.rotate(SIGNING)
    clock.advance(10 * DAY)
    await secrets.end_rotation_window(SIGNING)
    clock.advance(81 * DAY)
    assert await secret_ages(secrets, [SIGNING], clock.wall) == [SecretAge(SIGNING, 91 * DAY)]
    await secrets.rotate(SIGNING)
    assert await secret_ages(secrets, [SIGNING], clock.wall) == [SecretAge(SIGNING, 0.0)]


async def test_env_values_have_no_age_and_unconfigured_secrets_no_series(tmp_path: Path) -> None:
    secrets = provider_for(tmp_path, Clock(), revenuecat_webhook_authorization="Bearer env")
    ages = await secret_ages(secrets, [FROM_ENV, SIGNING, "btcpay_webhook_secret"], Clock().wall)
    assert ages == [SecretAge(FROM_ENV, None)]


async def test_a_record_written_before_rotation_times_is_dated_by_its_file(tmp_path: Path) -> None:
    clock = Clock()
    (tmp_path / f"{SIGNING}.json").write_text('{"current": "whsec_old", "previous": null, "version": 1}')
    written = clock.wall.timestamp() - 30 * DAY
    os.utime(tmp_path / f"{SIGNING}.json", (written, written))
    [age] = await secret_ages(provider_for(tmp_path, clock), [SIGNING], clock.wall)
    assert age.age_s is not None and abs(age.age_s - 30 * DAY) < 1


async def test_gauges_show_age_policy_and_unknown_and_warn_daily_when_overdue(tmp_path: Path) -> None:
    clock = Clock()
    secrets = provider_for(tmp_path, clock, revenuecat_webhook_authorization="Bearer env")
    await secrets.rotate(SIGNING)
    gauges = BacklogGauges(
        KafkaBacklog("127.0.0.1:1", Topics("unit.")),  # never connected: only secret ages refresh here
        sessions=None,  # type: ignore[arg-type]
        secrets=secrets,
        secret_names=[SIGNING, FROM_ENV],
        secret_max_age=timedelta(days=90),
        wall_clock=lambda: clock.wall,
    )
    clock.advance(89 * DAY)
    with capture_logs() as quiet:
        await gauges.refresh_secret_age()
    assert gauge(SECRET_AGE_SECONDS, SIGNING) == 89 * DAY
    assert gauge(SECRET_MAX_AGE_SECONDS, SIGNING) == 90 * DAY
    assert gauge(SECRET_AGE_UNKNOWN, FROM_ENV) == 1
    assert gauge(SECRET_AGE_SECONDS, FROM_ENV) is None
    assert not [e for e in quiet if e["event"] == "secret_rotation_overdue"]

    clock.advance(2 * DAY)
    with capture_logs() as logged:
        await gauges.refresh_secret_age()  # overdue: warned
        clock.advance(DAY / 2)
        await gauges.refresh_secret_age()  # the same day: not again
        clock.advance(DAY / 2)
        await gauges.refresh_secret_age()  # a day later: again
    warnings = [e for e in logged if e["event"] == "secret_rotation_overdue"]
    assert [(w["secret"], w["fix"]) for w in warnings] == [(SIGNING, f"billing secrets rotate {SIGNING}")] * 2
    assert all("whsec" not in repr(w) for w in warnings)  # never a value in a log line


def test_secrets_status_shows_each_secrets_age(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_NAMESPACE", "unit-secrets-status.")  # not the settings of a running stack
    monkeypatch.setenv("BILLING_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("BILLING_REVENUECAT_WEBHOOK_AUTHORIZATION", "Bearer env")
    monkeypatch.delenv("BILLING_ACK_SIGNING_SECRET", raising=False)
    get_settings.cache_clear()
    asyncio.run(build_secret_provider(get_settings(), secret_specs()).rotate(SIGNING))
    result = CliRunner().invoke(app, ["secrets", "status"])
    get_settings.cache_clear()
    lines = {line.split("\t")[0]: line for line in result.output.splitlines()}
    assert result.exit_code == 0, result.output
    assert "\t0 days old\t" in lines[SIGNING]
    assert "age unknown" in lines[FROM_ENV] and "Bearer env" not in result.output
