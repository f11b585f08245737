"""A private Kafka, PostgreSQL and Redis for tests that stop and start them (the fault suite).

They run from ``deploy/local/start.sh`` / ``stop.sh`` like the shared ones, but on free ports and in
their own data folder (``BILLING_LOCAL_DIR``), so stopping them never touches the instances everyone
else's sessions share. Ports of the shared deployment are refused outright.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from apps.stack.processes import REPO_ROOT, free_port

# deploy/local/env.sh defaults: the shared deployment, never to be stopped by a test.
SHARED_PORTS = frozenset({19092, 19093, 55432, 56379})
COMPONENTS = ("postgres", "redis", "kafka")


class InfraScriptFailed(RuntimeError):
    """start.sh or stop.sh exited non-zero; the message holds what it wrote to stderr."""


@dataclass(frozen=True)
class PrivateInfra:
    local_dir: Path
    kafka_port: int
    kafka_controller_port: int
    pg_port: int
    redis_port: int

    @classmethod
    def on_free_ports(cls, local_dir: Path) -> "PrivateInfra":
        infra = cls(local_dir, free_port(), free_port(), free_port(), free_port())
        ports = {infra.kafka_port, infra.kafka_controller_port, infra.pg_port, infra.redis_port}
        if ports & SHARED_PORTS or len(ports) != 4:
            raise RuntimeError(f"refusing ports {sorted(ports)}: they clash with the shared deployment")
        return infra

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def server_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.pg_port}/billing"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        """What start.sh/stop.sh read; every call passes all of it (never the shared defaults)."""
        return {
            "BILLING_LOCAL_DIR": str(self.local_dir),
            "BILLING_KAFKA_PORT": str(self.kafka_port),
            "BILLING_KAFKA_CONTROLLER_PORT": str(self.kafka_controller_port),
            "BILLING_PG_PORT": str(self.pg_port),
            "BILLING_REDIS_PORT": str(self.redis_port),
        }

    def start(self, *components: str) -> None:
        """Start the named components (all three when none is named) and wait until they answer."""
        self._script("start.sh", components)

    def stop(self, *components: str) -> None:
        """Stop them: Kafka by SIGTERM (SIGKILL after 30 s), Redis by SHUTDOWN, PostgreSQL fast."""
        self._script("stop.sh", components)

    def destroy(self) -> None:
        """Stop everything and delete every file it wrote (PostgreSQL's folder may live in /var/tmp)."""
        self.stop()
        pg_dir = self._pg_dir()
        shutil.rmtree(self.local_dir, ignore_errors=True)
        if pg_dir is not None and pg_dir.name.startswith("billing-pg-"):
            shutil.rmtree(pg_dir, ignore_errors=True)

    def _pg_dir(self) -> Path | None:
        probe = subprocess.run(
            ["bash", "-c", f'source "{REPO_ROOT}/deploy/local/env.sh" && printf %s "$PG_DIR"'],
            env=self._script_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        found = Path(probe.stdout) if probe.returncode == 0 and probe.stdout else None
        return found if found != self.local_dir else None

    def _script(self, script: str, components: tuple[str, ...]) -> None:
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}")
        finished = subprocess.run(
            ["bash", str(REPO_ROOT / "deploy/local" / script), *components],
            env=self._script_env(),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if finished.returncode != 0:
            command = " ".join([script, *components])
            raise InfraScriptFailed(f"{command} exited {finished.returncode}:\n{finished.stderr}")

    def _script_env(self) -> dict[str, str]:
        return {**os.environ, **self.env()}
