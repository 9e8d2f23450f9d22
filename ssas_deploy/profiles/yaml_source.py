"""YAML loading that remembers where every value came from (file and line)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ssas_deploy.bounded_read import read_regular_file
from ssas_deploy.errors import InvalidInputError, Problem

FieldPath = tuple[str | int, ...]

# One loader instance just to turn scalar nodes into Python values (ints, bools, nulls...).
_SCALARS = yaml.SafeLoader("")

# Hostile-file bounds. The largest real inventory (hundreds of hosts) is a few tens of KiB;
# aliases let a 1 KiB file stand for billions of values ("billion laughs"), so the values
# reached through aliases are counted and the walk stops at the bound.
MAX_FILE_BYTES = 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 64


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
    """Parse a profile or inventory file: a top-level mapping with file:line for every key.

    Refused with InvalidInputError (file and line, or byte offset, named) before any parsing
    when the file cannot be read, is over MAX_FILE_BYTES or is not UTF-8; and when its YAML
    is invalid, nests deeper than MAX_DEPTH or expands (through aliases) to more than
    MAX_VALUES values. All problems found in the document are raised together.
    """
    text = _read_utf8(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InvalidInputError([Problem(path, line, "", f"invalid YAML: {reason}")]) from None
    except RecursionError:
        raise InvalidInputError([Problem(path, None, "", "invalid YAML: nested too deeply "
                                         f"(at most {MAX_DEPTH} levels)")]) from None
    if node is None:
        raise InvalidInputError([Problem(path, 1, "", "file is empty")])
    if not isinstance(node, yaml.MappingNode):
        raise InvalidInputError(
            [Problem(path, node.start_mark.line + 1, "", "expected a mapping at top level")]
        )
    doc = SourcedDocument(data={})
    problems: list[Problem] = []
    doc.lines[()] = (path, 1)
    try:
        doc.data = _convert(node, (), path, doc.lines, problems, [0])
    except _TooBig as exc:
        raise InvalidInputError([Problem(path, exc.line, "", exc.message)]) from None
    if problems:
        raise InvalidInputError(problems)
    return doc


def _read_utf8(path: Path) -> str:
    raw = read_regular_file(path, MAX_FILE_BYTES, "a profile or inventory")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidInputError([Problem(path, line, "", (
            f"not UTF-8: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} "
            "(save the file as UTF-8)"))]) from None


class _TooBig(Exception):
    def __init__(self, line: int, message: str):
        self.line, self.message = line, message


def _convert(node, at: FieldPath, path: Path, lines, problems: list[Problem],
             count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_VALUES:
        raise _TooBig(node.start_mark.line + 1, f"more than {MAX_VALUES:,} values (YAML "
                      "aliases expand to too much); write the values out")
    if len(at) > MAX_DEPTH:
        raise _TooBig(node.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                dotted = ".".join(str(p) for p in at) or "(top level)"
                problems.append(Problem(path, line, dotted, "a key must be a plain word, not "
                                        "a list or mapping (`? [a, b]` or `? {a: 1}`)"))
                continue
            key = key_node.value
            here = (*at, key)
            if key in result:
                dotted = ".".join(str(p) for p in here)
                problems.append(Problem(path, line, dotted, "duplicate key"))
                continue
            lines[here] = (path, line)
            result[key] = _convert(value_node, here, path, lines, problems, count)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*at, index)] = (path, item.start_mark.line + 1)
            items.append(_convert(item, (*at, index), path, lines, problems, count))
        return items
    return _SCALARS.construct_object(node)
