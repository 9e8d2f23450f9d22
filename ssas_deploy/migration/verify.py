"""Compare two databases' `table_checksums --json` documents, and two API samples.

Pure functions over the documents the app prints (see the app's
ssas.monitoring.tables): {"database", "vendor", "tables": [{"table", "rows", "checksum",
"max_id", "next_id", "auto_pk", "sequence_ok"}, ...]}.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TableCheck:
    """One table on both sides; rows are None where the table is missing on that side."""

    table: str
    source_rows: int | None
    target_rows: int | None
    checksum_equal: bool
    sequence_ok: bool | None  # target's next id past its max id; None: no auto key

    @property
    def ok(self) -> bool:
        """Same rows, same content, and a sequence (if any) that will not collide."""
        return (self.source_rows is not None and self.source_rows == self.target_rows
                and self.checksum_equal and self.sequence_ok is not False)


class BadChecksumDocument(ValueError):
    """A `table_checksums --json` output that cannot be read; message names the side."""


def tables_of(document: dict, side: str) -> dict[str, dict]:
    """table name -> entry; raises BadChecksumDocument when the shape is wrong."""
    try:
        tables = {t["table"]: t for t in document["tables"]}
        for entry in tables.values():
            int(entry["rows"]), str(entry["checksum"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadChecksumDocument(f"{side}: unreadable table_checksums output "
                                  f"({type(exc).__name__}: {exc})") from None
    return tables


def compare_tables(source: dict, target: dict) -> list[TableCheck]:
    """One TableCheck per table present on either side, sorted by table name."""
    left, right = tables_of(source, "source"), tables_of(target, "target")
    checks = []
    for name in sorted(left.keys() | right.keys()):
        a, b = left.get(name), right.get(name)
        checks.append(TableCheck(
            table=name,
            source_rows=a["rows"] if a else None,
            target_rows=b["rows"] if b else None,
            checksum_equal=bool(a and b and a["checksum"] == b["checksum"]),
            sequence_ok=(b.get("sequence_ok") if b else False)))
    return checks


def compare_answers(source: dict, target: dict) -> list[str]:
    """API paths whose status or body digest differ (or exist on one side only)."""
    return sorted(path for path in source.keys() | target.keys()
                  if source.get(path) != target.get(path))


def compare_files(source: dict[str, str], target: dict[str, str]) -> list[str]:
    """Relative paths missing, extra or with other content on the target (sorted)."""
    return sorted(path for path in source.keys() | target.keys()
                  if source.get(path) != target.get(path))


def summary(checks: list[TableCheck]) -> str:
    """One line: 'N tables, R rows: all equal' or what differs."""
    bad = [c.table for c in checks if not c.ok]
    rows = sum(c.source_rows or 0 for c in checks)
    if not bad:
        return f"{len(checks)} tables, {rows} rows: every count, checksum and sequence equal"
    return f"{len(bad)} of {len(checks)} tables differ: {', '.join(bad)}"


def checks_table(checks: list[TableCheck]):
    """A rich Table: table, rows source/target, checksum equal, sequence ok, verdict."""
    from rich.table import Table

    table = Table("table", "rows source", "rows target", "checksum", "sequence", "",
                  title="Migration check per table")

    def mark(value):
        return {True: "equal", False: "DIFFERS", None: "-"}[value]

    for c in checks:
        table.add_row(c.table, _rows(c.source_rows), _rows(c.target_rows),
                      mark(c.checksum_equal),
                      {True: "ok", False: "BEHIND", None: "-"}[c.sequence_ok],
                      "ok" if c.ok else "DIFFERS")
    return table


def _rows(value: int | None) -> str:
    return "missing" if value is None else str(value)
