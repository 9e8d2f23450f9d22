"""YAML loading that remembers where every value came from (file and line)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ssas_deploy.errors import InvalidInputError, Problem

FieldPath = tuple[str | int, ...]

# One loader instance just to turn scalar nodes into Python values (ints, bools, nulls...).
_SCALARS = yaml.SafeLoader("")


@dataclass
class SourcedDocument:
    """A parsed mapping plus the file:line of every key in it."""

    data: dict[str, Any]
    lines: dict[FieldPath, tuple[Path, int]] = field(default_factory=dict)

    def where(self, path: FieldPath) -> tuple[Path | None, int | None]:
        """Closest known location of `path`, walking up to its parent if needed."""
        for cut in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:cut]))
            if found:
                return found
        return None, None


def load_yaml_mapping(path: Path) -> SourcedDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(
            [Problem(path, None, "", f"cannot read file: {exc.strerror}")]
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InvalidInputError([Problem(path, line, "", f"invalid YAML: {reason}")]) from None
    if node is None:
        raise InvalidInputError([Problem(path, 1, "", "file is empty")])
    if not isinstance(node, yaml.MappingNode):
        raise InvalidInputError(
            [Problem(path, node.start_mark.line + 1, "", "expected a mapping at top level")]
        )
    doc = SourcedDocument(data={})
    problems: list[Problem] = []
    doc.lines[()] = (path, 1)
    doc.data = _convert(node, (), path, doc.lines, problems)
    if problems:
        raise InvalidInputError(problems)
    return doc


def _convert(node, at: FieldPath, path: Path, lines, problems: list[Problem]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            here = (*at, key)
            line = key_node.start_mark.line + 1
            if key in result:
                dotted = ".".join(str(p) for p in here)
                problems.append(Problem(path, line, dotted, "duplicate key"))
                continue
            lines[here] = (path, line)
            result[key] = _convert(value_node, here, path, lines, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*at, index)] = (path, item.start_mark.line + 1)
            items.append(_convert(item, (*at, index), path, lines, problems))
        return items
    return _SCALARS.construct_object(node)
