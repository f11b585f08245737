"""Progress bars of the long commands draw on a terminal only and leave no trace in a pipe."""

import io

import pytest
from rich.console import Console

from apps.cli import progress
from apps.cli.progress import counted, working


def test_bars_leave_nothing_behind_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with counted("replaying", 3) as one_more:
        for _ in range(3):
            one_more()
    with working("syncing"):
        pass
    assert capsys.readouterr() == ("", "")


def test_on_a_terminal_the_bar_is_drawn_with_its_count(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(progress, "PROGRESS_CONSOLE", terminal)
    with counted("replaying", 3) as one_more:
        one_more()
        terminal.file.flush()
        progress_shown = screen.getvalue()
    assert "replaying" in progress_shown
