"""Progress on the long commands (rich), on stderr so stdout stays the command's answer.

Off a terminal (a pipe, a script, CI) the bars are disabled, so nothing of them is written (a
transient bar would still leave blank lines): the output is what it was before bars existed.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

PROGRESS_CONSOLE = Console(stderr=True)


@contextmanager
def counted(description: str, total: int | None) -> Iterator[Callable[[], None]]:
    """A bar of ``total`` steps (a spinner when the total is unknown); yields "one more done"."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with _progress(*columns, TimeElapsedColumn()) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


@contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner with the time elapsed, for a step that cannot count its work."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with _progress(*columns) as progress:
        progress.add_task(description, total=None)
        yield


def _progress(*columns: ProgressColumn) -> Progress:
    console = PROGRESS_CONSOLE
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)
