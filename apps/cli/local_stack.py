"""``billing up``: the whole stack on this machine, without Docker; Ctrl-C stops all of it."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from apps.cli import lightning_sandboxes
from apps.cli.stack_env import remove_stack_env, write_stack_env
from apps.stack.processes import SERVICES
from shared.connectors.revenuecat import cli as revenuecat
from shared.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DEPLOY = REPO_ROOT / "deploy" / "local"
EXAMPLE_CATALOG = REPO_ROOT / "catalog" / "example.yaml"
WEBHOOK_AUTHORIZATION_FILE = REPO_ROOT / ".local" / "revenuecat-webhook-authorization"


def start_infrastructure() -> None:
    subprocess.run(["bash", str(LOCAL_DEPLOY / "start.sh")], check=True)


def stop_infrastructure() -> None:
    subprocess.run(["bash", str(LOCAL_DEPLOY / "stop.sh")], check=False)


def local_webhook_authorization() -> str:
    """A random RevenueCat Authorization value for this machine, kept out of the repo."""
    if not WEBHOOK_AUTHORIZATION_FILE.exists():
        WEBHOOK_AUTHORIZATION_FILE.parent.mkdir(parents=True, exist_ok=True)
        WEBHOOK_AUTHORIZATION_FILE.write_text(f"Bearer {secrets.token_urlsafe(24)}")
        WEBHOOK_AUTHORIZATION_FILE.chmod(0o600)
    return WEBHOOK_AUTHORIZATION_FILE.read_text().strip()


def stack_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("BILLING_REVENUECAT_WEBHOOK_AUTHORIZATION", local_webhook_authorization())
    env.setdefault("BILLING_MARKETPLACE_DEV_SIGN_IN", "true")  # a local demo: sign in by typing a user id
    return lightning_sandboxes.sandbox_environment(revenuecat.sandbox_environment(env, get_settings()))


def run_everything() -> None:
    start_infrastructure()
    env = stack_environment()
    added = {k: v for k, v in env.items() if k.startswith("BILLING_") and os.environ.get(k) != v}
    write_stack_env(added, os.getpid())
    billing = [sys.executable, "-m", "apps.cli.main"]
    subprocess.run([*billing, "migrate"], check=True, env=env)
    subprocess.run([*billing, "catalog", "apply", str(EXAMPLE_CATALOG)], check=True, env=env)
    children = {name: subprocess.Popen([*billing, "serve", name], env=env) for name in SERVICES}
    if revenuecat_sandbox := revenuecat.sandbox_command(env, get_settings()):
        children["revenuecat-sandbox"] = subprocess.Popen(revenuecat_sandbox, env=env)
    for name, argv in lightning_sandboxes.sandbox_commands(env, get_settings()).items():
        children[name] = subprocess.Popen(argv, env=env)
    settings = get_settings()
    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
    typer.echo(f"gateway: {gateway}")
    typer.echo(f"marketplace: {gateway}/market/  (demo sign-in: {gateway}/market/sign-in?user_id=demo)")
    admin_key = "billing apikeys create --name dashboard --scope admin"
    typer.echo(f"dashboard: {gateway}/market/admin/  (sign in with an admin key: {admin_key})")
    typer.echo("all services started; Ctrl-C stops everything")
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    typer.echo(f"{name} exited with {child.returncode}; stopping", err=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        remove_stack_env()
        stop_infrastructure()
