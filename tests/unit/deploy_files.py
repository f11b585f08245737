"""What the deployment tests read: the compose file, the k8s manifests, and the ``billing`` CLI they run."""

from pathlib import Path
from typing import Any

import typer.main
import yaml

from apps.cli.main import app

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
K8S_DIR = DEPLOY / "k8s"
IMAGE = "hometryon/billing:latest"
# The services `billing serve` runs, and the shared settings every one of them needs.
SERVED = ("gateway", "ingest", "worker", "catalog-sync", "telemetry")
SHARED_ENVIRONMENT = ("BILLING_DATABASE_URL", "BILLING_KAFKA_BOOTSTRAP", "BILLING_REDIS_URL")


def compose() -> dict[str, Any]:
    """The compose file as Compose sees it: PyYAML's safe loader resolves anchors and ``<<`` merge keys."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    """Every resource in deploy/k8s, with its file (kustomization.yaml is kustomize's, not a resource)."""
    return [
        (path, document)
        for path in sorted(K8S_DIR.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def parse_billing_command(argv: list[str]) -> dict[str, Any]:
    """Parse ``billing ...`` as the installed CLI would, without running it: the leaf command's
    parameters. Raises on an unknown command, a bad argument (``serve nosuchservice``) or a missing one."""
    assert argv[0] == "billing", argv
    # Typer builds (its own vendored) click commands; a group is one with subcommands.
    command: Any = typer.main.get_command(app)
    rest = argv[1:]
    while hasattr(command, "commands"):
        assert rest, f"{argv}: a command group needs a subcommand"
        name, *rest = rest
        assert name in command.commands, f"`billing` has no command {name!r} ({argv})"
        command = command.commands[name]
    params: dict[str, Any] = command.make_context(command.name, list(rest)).params
    return params
