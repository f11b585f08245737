"""The declarative catalog file (YAML): packs, bundles and how each is sold at each provider.

Every problem is reported with the field and the line at fault, e.g.
``catalog/example.yaml: line 17: packs[2].providers.revenuecat.price: Input should be ...``.
"""

import uuid
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.catalog.errors import CatalogError, CatalogIssue, FieldPath
from shared.catalog.model import PackSpec
from shared.catalog.resolve import resolve_catalog
from shared.catalog.yaml_lines import LineMap, load_yaml_with_lines

# Pack ids are derived from slugs so that applying a file twice, or on two machines, yields the same ids.
PACK_ID_NAMESPACE = uuid.UUID("6f1c2c52-5d0e-4c57-9d0c-2f4f0b6f1a10")


def pack_id_for(slug: str) -> uuid.UUID:
    return uuid.uuid5(PACK_ID_NAMESPACE, slug)


class CatalogFile(BaseModel):
    """``catalog`` names the set of packs this file manages: applying it deactivates the ones it dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    catalog: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")] = "default"
    packs: list[PackSpec]


def load_catalog_file(path: Path) -> CatalogFile:
    """Parse and check a catalog file; raises ``CatalogError`` listing every problem with its line."""
    return parse_catalog(path.read_text(), str(path))[0]


def parse_catalog(text: str, source: str = "<catalog>") -> tuple[CatalogFile, LineMap]:
    """The checked catalog and where each of its fields is in ``text``."""
    data, lines = load_yaml_with_lines(text, source)
    try:
        catalog = CatalogFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError([_issue_from_pydantic(error, lines) for error in exc.errors()], source) from exc
    issues = _file_issues(catalog)
    if issues:
        raise CatalogError([_with_line(issue, lines) for issue in issues], source)
    return catalog, lines


def locate_issues(error: CatalogError, catalog: CatalogFile, lines: LineMap, source: str) -> CatalogError:
    """Problems found against the stored catalog, pointed at the file's fields and lines."""
    index_of = {pack.slug: index for index, pack in enumerate(catalog.packs)}
    located = []
    for issue in error.issues:
        if issue.slug in index_of:
            path = ("packs", index_of[issue.slug], *issue.path)
            located.append(CatalogIssue(path, issue.message, line=lines.line_of(path)))
        else:
            located.append(issue)
    return CatalogError(located, source)


def _issue_from_pydantic(error: Any, lines: LineMap) -> CatalogIssue:
    path: FieldPath = tuple(part for part in error["loc"] if part != "[key]")
    message = str(error["msg"]).removeprefix("Value error, ")
    return CatalogIssue(path, message, line=lines.line_of(path))


def _file_issues(catalog: CatalogFile) -> list[CatalogIssue]:
    """Duplicate slugs, then every catalog-wide problem, with paths into the file."""
    index_of: dict[str, int] = {}
    issues: list[CatalogIssue] = []
    for index, pack in enumerate(catalog.packs):
        if pack.slug in index_of:
            message = f"slug {pack.slug!r} is already used by packs[{index_of[pack.slug]}]"
            issues.append(CatalogIssue(("packs", index, "slug"), message))
        index_of.setdefault(pack.slug, index)
    if issues:
        return issues
    _, problems = resolve_catalog({pack.slug: pack for pack in catalog.packs})
    return [
        CatalogIssue(("packs", index_of[p.slug], *p.path), p.message) if p.slug in index_of else p
        for p in problems
    ]


def _with_line(issue: CatalogIssue, lines: LineMap) -> CatalogIssue:
    return CatalogIssue(issue.path, issue.message, issue.slug, lines.line_of(issue.path))
