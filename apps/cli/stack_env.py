"""The running ``billing up``'s settings, for the commands an operator types beside it.

``billing up`` gives its services the sandboxes' addresses and keys through their environment; a
``billing catalog diff`` in another terminal would not see them and answer "no provider
configured". So ``billing up`` writes what it added to the environment to a git-ignored file
(``.local/stack.env``, mode 0600: it holds the local sandboxes' keys) naming its own pid, and every
other command loads the variables it was not given — only while that pid lives, and never when the
caller chose a namespace of its own (the test stack does) or for ``serve`` (services get their
whole configuration from their launcher).
"""

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE = REPO_ROOT / ".local" / "stack.env"
PID_LINE = "# billing up pid="


def stack_env_file() -> Path:
    return Path(os.environ.get("BILLING_STACK_ENV_FILE") or DEFAULT_FILE)


def write_stack_env(added: Mapping[str, str], pid: int, path: Path | None = None) -> Path:
    """Record the ``BILLING_*`` variables ``billing up`` added for its services."""
    path = path or stack_env_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{PID_LINE}{pid}"] + [f"{name}={value}" for name, value in sorted(added.items())]
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n")
    return path


def remove_stack_env(path: Path | None = None) -> None:
    (path or stack_env_file()).unlink(missing_ok=True)


def running_stack_env(path: Path | None = None) -> dict[str, str]:
    """The variables of a ``billing up`` that is still running; empty when none is."""
    path = path or stack_env_file()
    try:
        first, *rest = path.read_text().splitlines()
    except (FileNotFoundError, ValueError):
        return {}
    if not first.startswith(PID_LINE) or not _alive(int(first.removeprefix(PID_LINE))):
        return {}
    return dict(line.split("=", 1) for line in rest if "=" in line)


def load_beside_running_stack(environ: MutableMapping[str, str], command: str | None) -> list[str]:
    """Add a running stack's variables the caller did not set; returns their names."""
    if command == "serve" or environ.get("BILLING_NAMESPACE"):
        return []
    missing = {name: value for name, value in running_stack_env().items() if name not in environ}
    environ.update(missing)
    return sorted(missing)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
