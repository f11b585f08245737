"""deploy/compose.yaml and the image: valid Compose, every service configured, every command real.

No Docker engine here: the file is checked against the Compose specification schema that
check-jsonschema ships (nothing fetched), and the image's commands are run outside a container.
"""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sandboxes.nwc.keys import parse_connection_uri, wallet_keys_for
from services.gateway import api_docs, asyncapi
from tests.unit.deploy_files import (
    COMPOSE_FILE,
    DEPLOY,
    IMAGE,
    REPO_ROOT,
    SERVED,
    SHARED_ENVIRONMENT,
    compose,
    parse_billing_command,
)

SANDBOXES_ENV = DEPLOY / "sandboxes.env"
DOCKERFILE = DEPLOY / "Dockerfile"
INFRASTRUCTURE = {"kafka", "postgres", "redis"}
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (what the containers must listen on)


def _check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def _billing_services() -> dict[str, dict[str, object]]:
    """Everything but the infrastructure: the product's services, its jobs and the sandboxes."""
    return {name: s for name, s in compose()["services"].items() if name not in INFRASTRUCTURE}


def _sandboxes_env() -> dict[str, str]:
    lines = [line for line in SANDBOXES_ENV.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_compose_file_matches_the_compose_specification() -> None:
    result = _check_compose_schema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_check_rejects_an_invalid_file(tmp_path: Path) -> None:
    """The check above can fail: a misspelled key and a wrong type are reported."""
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  gateway:\n    image: x\n    comand: [billing]\n    restart: 5\n")
    assert _check_compose_schema(broken).returncode != 0


def test_every_billing_container_runs_the_billing_image() -> None:
    for name, service in _billing_services().items():
        assert service["image"] == IMAGE, name
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name


def test_every_billing_container_gets_the_shared_database_kafka_and_redis_settings() -> None:
    """A service's own ``environment:`` merges the shared block instead of replacing it."""
    services = compose()["services"]
    for name, service in _billing_services().items():
        environment = service["environment"]
        assert isinstance(environment, dict), name
        for key in SHARED_ENVIRONMENT:
            assert key in environment, f"{name} lacks {key}"
        hosts = {
            urlparse(environment["BILLING_DATABASE_URL"]).hostname,
            environment["BILLING_KAFKA_BOOTSTRAP"].split(":")[0],
            urlparse(environment["BILLING_REDIS_URL"]).hostname,
        }
        assert hosts == INFRASTRUCTURE and hosts <= services.keys(), name


def test_the_product_runs_every_service_and_both_one_shot_jobs() -> None:
    commands = {name: service["command"] for name, service in _billing_services().items()}
    served = {argv[2] for argv in commands.values() if argv[:2] == ["billing", "serve"]}
    assert served == set(SERVED)
    assert commands["migrate"] == ["billing", "migrate"]
    assert commands["catalog-load"] == ["billing", "catalog", "apply", "catalog/example.yaml"]
    assert (REPO_ROOT / "catalog" / "example.yaml").is_file()


def test_every_billing_command_in_compose_is_a_real_billing_subcommand() -> None:
    for name, service in _billing_services().items():
        if service["command"][0] == "billing":
            parse_billing_command(service["command"])  # raises for an unknown command or argument
        else:
            assert "sandboxes" in service.get("profiles", []), name


def test_migrate_finishes_before_anything_else_of_the_product_starts() -> None:
    services = _billing_services()
    for name, service in services.items():
        if name == "migrate" or "profiles" in service:
            continue
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert services["migrate"]["restart"] == services["catalog-load"]["restart"] == "no"


def test_services_listen_beyond_the_container_loopback() -> None:
    """The gateway's port and the consumers' metrics port (their health check) must be reachable."""
    services = compose()["services"]
    for name in SERVED:
        assert services[name]["environment"]["BILLING_GATEWAY_HOST"] == ALL_INTERFACES, name
    for name in ("ingest", "worker", "catalog-sync"):
        port = services[name]["environment"]["BILLING_METRICS_PORT"]
        assert f"127.0.0.1:{port}/metrics" in " ".join(services[name]["healthcheck"]["test"]), name
    assert "/readyz" in " ".join(services["gateway"]["healthcheck"]["test"])


def test_the_image_runs_as_nobody_and_owns_only_its_secrets_directory() -> None:
    """Generated secrets are written where the image made nobody the owner and compose mounts a volume."""
    dockerfile = DOCKERFILE.read_text()
    secrets_dir = re.search(r"^ENV BILLING_SECRETS_DIR=(\S+)$", dockerfile, re.MULTILINE)
    assert secrets_dir is not None
    assert re.search(rf"chown -R nobody\S* {re.escape(str(Path(secrets_dir[1]).parent))}\b", dockerfile)
    assert re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)[-1] == "nobody"
    for name, service in _billing_services().items():
        assert service["environment"]["BILLING_SECRETS_DIR"] == secrets_dir[1], name
        assert f"billing-secrets:{secrets_dir[1]}" in service["volumes"], name
    assert "billing-secrets" in compose()["volumes"]


def test_the_image_contains_every_package_the_commands_import() -> None:
    copied = set(re.findall(r"^COPY (\S+) \./\1$", DOCKERFILE.read_text(), re.MULTILINE))
    assert {"apps", "shared", "services", "sandboxes", "catalog"} <= copied


def test_the_image_holds_the_documents_the_gateway_serves_where_it_looks() -> None:
    dockerfile = DOCKERFILE.read_text()
    copied = {Path(target) for target in re.findall(r"^COPY (?:--from=\S+ )?\S+ \./(\S+)$", dockerfile, re.M)}
    assert asyncapi.DOCUMENT.relative_to(REPO_ROOT) in copied  # /asyncapi.json
    assert api_docs.DEFAULT_ASSETS.relative_to(REPO_ROOT) in copied  # /docs
    assert "pip install --no-cache-dir -e ." in dockerfile  # the code runs from /app, beside them
    setup = (DEPLOY / "local" / "setup.sh").read_text()
    (version,) = set(re.findall(r"swagger-ui-dist@(\S+)", dockerfile))
    assert f"swagger-ui-dist@{version}" in setup  # the image serves what the tests ran against


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["catalog", "apply", "--help"]])
def test_the_image_entry_commands_run(argv: list[str]) -> None:
    """What `billing ...` runs in the container, run here: the CLI imports and parses."""
    result = subprocess.run(
        [sys.executable, "-m", "apps.cli.main", *argv], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_sandboxes_run_only_in_their_profile_and_accept_their_arguments() -> None:
    sandboxes = {n: s for n, s in compose()["services"].items() if "profiles" in s}
    assert set(sandboxes) == {"revenuecat-sandbox", "btcpay-sandbox", "nwc-sandbox"}
    for name, service in sandboxes.items():
        assert service["profiles"] == ["sandboxes"], name
        python, dash_m, module, *options = service["command"]
        assert (python, dash_m) == ("python", "-m"), name
        help_text = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True
        ).stdout
        for option in options:
            assert option.split("=", 1)[0] in help_text, f"{name}: {option}"


def test_the_sandboxes_env_file_points_the_services_at_the_sandbox_containers() -> None:
    services = compose()["services"]
    environment = _sandboxes_env()
    compose_text = COMPOSE_FILE.read_text()
    for key in environment:  # each one reaches the containers through an interpolation
        assert "${" + key + ":" in compose_text, key
    for key in ("BILLING_REVENUECAT_API_BASE_URL", "BILLING_BTCPAY_BASE_URL"):
        url = urlparse(environment[key])
        service = services[str(url.hostname)]
        assert "sandboxes" in service["profiles"], key
        assert f"--port={url.port}" in service["command"], key
    assert environment["BILLING_LIGHTNING_BACKEND"] == "btcpay"


def test_the_sandbox_wallet_uri_names_the_key_its_secret_derives() -> None:
    """The NWC sandbox derives its wallet key from the URI's secret; a hand-edited URI must still match."""
    wallet_pubkey, relay, secret = parse_connection_uri(_sandboxes_env()["BILLING_NWC_URI"])
    assert wallet_pubkey == wallet_keys_for(secret).public_key().to_hex()
    assert relay.startswith("ws://127.0.0.1:")  # the relay binds loopback: nwc-sandbox shares the gateway's
    assert compose()["services"]["nwc-sandbox"]["network_mode"] == "service:gateway"
