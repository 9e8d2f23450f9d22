"""A file's bytes to rows keyed by column name, each with its spreadsheet row number.

CSV is read with the standard library (UTF-8, with or without a byte-order mark; `,` `;` or
tab found from the header line); XLSX with tablib (openpyxl), first sheet. Old Excel
(.xls) and ODS files are refused with what to do instead.
Row numbers are what a spreadsheet shows: the header is row 1.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from .columns import SPECS, Kind, header_key, kinds_named_by

SPREADSHEETS = {".xlsx": "xlsx"}
SAVE_AS = {".xls", ".ods", ".numbers", ".xlsb"}


class FileError(ValueError):
    """The file as a whole cannot be read; the message names the file (and row)."""


@dataclass
class Table:
    """A file's header and data rows: `rows` are (row number, {header: cell})."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]


@dataclass
class MappedTable:
    """A table read as one kind: `columns` maps a column name to its cell index."""

    table: Table
    kind: Kind
    columns: dict[str, int]
    ignored: list[str]


def read_table(name: str, data: bytes) -> Table:
    """Parse `data` (the bytes of file `name`) as CSV or a spreadsheet. FileError when it is
    not text in UTF-8, not a spreadsheet, or has no header row."""
    suffix = PurePath(name).suffix.lower()
    if suffix in SAVE_AS:
        raise FileError(f"{name}: {suffix} files are not read; save it as XLSX or CSV UTF-8")
    if suffix in SPREADSHEETS:
        table = _read_spreadsheet(name, data, SPREADSHEETS[suffix])
    else:
        table = _read_csv(name, data)
    if not any(str(h or "").strip() for h in table.headers):
        raise FileError(f"{name}:1: no header row (the first row names the columns)")
    return table


def _read_csv(name: str, data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileError(f"{name}:{line}: not UTF-8 text (save it as 'CSV UTF-8')") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader, [])
        rows = []
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise FileError(f"{name}:{reader.line_num}: {exc}") from None
    return Table(name, headers, rows)


def _read_spreadsheet(name: str, data: bytes, file_format: str) -> Table:
    import tablib

    try:
        book = tablib.Databook().load(data, format=file_format)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise FileError(f"{name}: not a readable {file_format.upper()} file "
                        f"({type(exc).__name__})") from None
    if not book.sheets():
        raise FileError(f"{name}: the workbook has no sheet")
    sheet = book.sheets()[0]
    headers = list(sheet.headers or [])
    rows = [(number, list(cells)) for number, cells in enumerate(sheet, start=2)
            if any(c not in (None, "") for c in cells)]
    return Table(name, headers, rows)


def map_columns(table: Table, kind_name: str | None,
                extra_names: dict[str, str]) -> MappedTable:
    """Match `table`'s headers to a kind's columns. `kind_name` None: the kind is taken from
    the file name or else from the headers. `extra_names` maps a header (as `header_key`
    gives it) to a column name. FileError naming the file when the kind cannot be told, a
    required column is missing or two headers name one column."""
    if kind_name is None:
        kind_name = _detect_kind(table, extra_names)
    kind = SPECS[kind_name]
    names = {}
    for column in kind.columns:
        for alias in (column.name, *column.aliases):
            names.setdefault(alias, column.name)
    names.update({k: v for k, v in extra_names.items() if v in names.values()})
    columns: dict[str, int] = {}
    ignored = []
    for index, header in enumerate(table.headers):
        column = names.get(header_key(header))
        if column is None:
            if str(header or "").strip():
                ignored.append(str(header))
            continue
        if column in columns:
            first = table.headers[columns[column]]
            raise FileError(f"{table.name}:1: '{first}' and '{header}' both give {column}; "
                            "remove one or --map one to another column")
        columns[column] = index
    missing = [c.name for c in kind.columns if c.required and c.name not in columns]
    if missing:
        raise FileError(f"{table.name}:1: {kind.name} file without column "
                        f"{', '.join(missing)} (headers: {', '.join(map(str, table.headers))}; "
                        "--map 'HEADER=column' names another header)")
    return MappedTable(table, kind, columns, ignored)


def _detect_kind(table: Table, extra_names: dict[str, str]) -> str:
    stem = PurePath(table.name).stem
    named = kinds_named_by(stem)
    if len(named) == 1:
        return named[0]
    fitting = []
    for kind in SPECS:
        try:
            map_columns(table, kind, extra_names)
        except FileError:
            continue
        fitting.append(kind)
    if len(fitting) == 1:
        return fitting[0]
    raise FileError(f"{table.name}: cannot tell what it holds "
                    f"({' or '.join(fitting) or 'no kind fits its headers'}); name the file "
                    "after its kind (students.csv, scores.xlsx, ...) or give --kind")
