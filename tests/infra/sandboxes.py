"""Provider sandboxes a test session starts beside our services.

Each provider folder appends its sandbox here: how to start it on a given port and which settings
point our services at it. Settings are computed before any process starts, so the gateway, the
consumers and the sandboxes all know each other's addresses.
"""

from collections.abc import Callable
from dataclasses import dataclass

from shared.settings import Settings


@dataclass(frozen=True)
class SandboxProcess:
    name: str
    # argv (after the Python interpreter) to run it on ``port``, given the session's settings
    command: Callable[[Settings, int], list[str]]
    # settings overrides that point our services at a sandbox listening on ``port``
    settings_for_port: Callable[[int], dict[str, object]]


SANDBOXES: list[SandboxProcess] = []
