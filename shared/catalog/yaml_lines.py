"""YAML with line numbers: the parsed document plus the line of every key and list item."""

from typing import Any

import yaml

from shared.catalog.errors import CatalogError, CatalogIssue, FieldPath


class LineMap:
    """Line (1-based) of each path in a YAML document; unknown paths fall back to their parent."""

    def __init__(self, lines: dict[FieldPath, int]) -> None:
        self._lines = lines

    def line_of(self, path: FieldPath) -> int | None:
        for end in range(len(path), -1, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None


def load_yaml_with_lines(text: str, source: str) -> tuple[Any, LineMap]:
    """Parse one YAML document; syntax errors and duplicate keys raise ``CatalogError`` with the line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise CatalogError([CatalogIssue((), f"not valid YAML: {exc.problem}", line=line)], source) from exc
    finally:
        loader.dispose()
    lines: dict[FieldPath, int] = {(): 1}
    duplicates: list[CatalogIssue] = []
    if node is not None:
        _walk(node, (), lines, duplicates)
    if duplicates:
        raise CatalogError(duplicates, source)
    return data, LineMap(lines)


def _walk(node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], dups: list[CatalogIssue]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:  # PyYAML would silently keep the last one
                dups.append(CatalogIssue(child, "duplicate key", line=key_node.start_mark.line + 1))
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, dups)
