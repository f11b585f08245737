"""Catalog problems, each naming the pack and field at fault (and, in a file, its line)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

FieldPath = tuple[str | int, ...]
PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_path(path: FieldPath) -> str:
    """``("packs", 2, "feature_flags", "market.DE")`` → ``packs[2].feature_flags["market.DE"]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not PLAIN_NAME.match(part):
            text += f'["{part}"]'
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class CatalogIssue:
    """One problem: ``path`` is the field at fault, relative to the pack ``slug`` (or the document)."""

    path: FieldPath
    message: str
    slug: str | None = None
    line: int | None = None

    @property
    def field(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        pack = f"pack {self.slug!r}: " if self.slug and not self.path else ""
        return f"{where}{pack}{self.field or '<document>'}: {self.message}"


class CatalogError(ValueError):
    """The catalog (a file, or the state an admin change would produce) is not valid."""

    def __init__(self, issues: Sequence[CatalogIssue], source: str | None = None) -> None:
        self.issues = list(issues)
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + "; ".join(str(issue) for issue in self.issues))
