"""The providers' published specs in ``../shared/specs``: a test needing one skips on a developer's
machine without them, and fails under CI, where the specs are always laid beside the checkout."""

import os
from pathlib import Path

import pytest

from apps.stack.processes import REPO_ROOT

SPECS_ROOT = REPO_ROOT.parent / "shared" / "specs"


def spec_path(*parts: str) -> Path:
    path = SPECS_ROOT.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI lays ../shared beside the checkout")
        pytest.skip(f"{path} is absent")
    return path
