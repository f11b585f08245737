"""Our services and the provider sandboxes as separate subprocesses that a test can SIGKILL and
start again one by one (``running_services`` in services.py starts and stops them only as a set).

Each start of a process appends to its own log, so a test reads what every incarnation said.
"""

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from apps.stack.processes import REPO_ROOT, service_argv, settings_env
from apps.stack.sandboxes import SANDBOXES
from shared.settings import Settings


@dataclass
class ServiceProcesses:
    settings: Settings
    log_dir: Path
    # argv after the interpreter, by process name ("worker-2" is a second worker instance)
    commands: dict[str, list[str]]
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def for_stack(
        cls,
        settings: Settings,
        services: list[str],
        sandbox_ports: dict[str, int],
        log_dir: Path,
        sandbox_options: dict[str, dict[str, str]],
    ) -> "ServiceProcesses":
        """``sandbox_options`` replace options of a sandbox's usual command (e.g. its retry pace)."""
        commands = {name: service_argv(name) for name in services}
        for sandbox in SANDBOXES:
            argv = sandbox.command(settings, sandbox_ports[sandbox.name])
            commands[sandbox.name] = with_options(argv, sandbox_options.get(sandbox.name, {}))
        log_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings, log_dir, commands)

    def start(self, name: str) -> None:
        """Start ``name`` (a service, a sandbox, or ``<service>-<n>`` for one more instance)."""
        if self.is_running(name):
            raise RuntimeError(f"{name} is already running")
        argv = self.commands.get(name) or service_argv(name.rsplit("-", 1)[0])
        log_file = (self.log_dir / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            [sys.executable, *argv],
            env=settings_env(self.settings),
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        log_file.close()  # the child holds its own descriptor

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def is_running(self, name: str) -> bool:
        child = self.running.get(name)
        return child is not None and child.poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed or committed."""
        child = self.running.pop(name)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)

    def stop(self, name: str, timeout_s: float = 20) -> None:
        child = self.running.pop(name)
        child.terminate()
        try:
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def log_of(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def with_options(argv: list[str], options: dict[str, str]) -> list[str]:
    """``argv`` with the values of ``--option value`` pairs replaced (or appended when absent)."""
    result = list(argv)
    for option, value in options.items():
        if option in result:
            result[result.index(option) + 1] = value
        else:
            result += [option, value]
    return result
