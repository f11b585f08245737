"""Commands typed beside ``billing up`` see its settings; nothing else does (apps/cli/stack_env.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.cli.stack_env import load_beside_running_stack, running_stack_env, write_stack_env

ADDED = {"BILLING_REVENUECAT_API_BASE_URL": "http://127.0.0.1:8091", "BILLING_REVENUECAT_PROJECT_ID": "proj"}


@pytest.fixture
def stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "stack.env"
    monkeypatch.setenv("BILLING_STACK_ENV_FILE", str(path))
    return path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_running_stacks_settings_fill_only_what_the_caller_did_not_set(stack_file: Path) -> None:
    write_stack_env(ADDED, os.getpid(), stack_file)
    assert stack_file.stat().st_mode & 0o777 == 0o600  # it holds the sandboxes' keys
    environ = {"BILLING_REVENUECAT_PROJECT_ID": "mine"}
    assert load_beside_running_stack(environ, "catalog") == ["BILLING_REVENUECAT_API_BASE_URL"]
    assert environ == {"BILLING_REVENUECAT_PROJECT_ID": "mine", **dict(list(ADDED.items())[:1])}


def test_a_stopped_stack_a_service_and_a_namespaced_caller_load_nothing(stack_file: Path) -> None:
    write_stack_env(ADDED, _dead_pid(), stack_file)
    assert running_stack_env(stack_file) == {}
    write_stack_env(ADDED, os.getpid(), stack_file)
    assert load_beside_running_stack({}, "serve") == []  # services get all from their launcher
    assert load_beside_running_stack({"BILLING_NAMESPACE": "test-1."}, "catalog") == []


def test_billing_settings_beside_a_running_stack_shows_its_values(stack_file: Path) -> None:
    write_stack_env(
        {"BILLING_GATEWAY_PORT": "18123", "BILLING_BTCPAY_STORE_ID": "store-x"}, os.getpid(), stack_file
    )
    hidden = {"BILLING_GATEWAY_PORT", "BILLING_BTCPAY_STORE_ID", "BILLING_NAMESPACE"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    shown = subprocess.run(
        [sys.executable, "-m", "apps.cli.main", "settings"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = shown.stdout.splitlines()
    assert "gateway_port=18123" in lines
    assert "btcpay_store_id=store-x" in lines  # a provider section's setting, under its flat name


def test_billing_settings_masks_passwords_in_urls(stack_file: Path) -> None:
    url = "postgresql+asyncpg://billing:hunter2@db.internal:5432/billing"
    env = {k: v for k, v in os.environ.items() if k != "BILLING_NAMESPACE"} | {"BILLING_DATABASE_URL": url}
    command = [sys.executable, "-m", "apps.cli.main", "settings"]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "hunter2" not in shown.stdout
    masked = "database_url=postgresql+asyncpg://billing:***@db.internal:5432/billing"
    assert masked in shown.stdout.splitlines()
