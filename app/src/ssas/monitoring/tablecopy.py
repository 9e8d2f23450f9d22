"""Copy every app table between databases, keeping every row, id and sequence.

Format ("ssas-tables/1"), JSON lines, streamed:

    {"format": "ssas-tables/1", "vendor": "sqlite", "tables": 23}
    {"table": "students_school", "model": "students.school", "columns": ["id", ...]}
    [1, "North High", ...]                 # one line per row, in primary-key order
    {"end": "students_school", "rows": 1}
    ...
    {"done": true, "tables": 23, "rows": 123456}

Tables come in foreign-key-safe order (a table after every table it references).
Values are written so that the field's own `to_python` reads them back exactly:
datetimes as ISO 8601 UTC, decimals as strings, bytes as base64, durations as ISO 8601,
JSON values as JSON. A truncated stream (no "done" line) is refused.

Import runs in one transaction on the target: it refuses a target that holds data
(anything beyond what `migrate` itself creates: content types, permissions and the role
groups) unless `replace=True`, empties the tables, inserts the rows with their ids
(no `auto_now`, no signals), checks foreign keys, then moves every sequence past the
largest id (Django's `sqlsequencereset`).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import IO

from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.utils.duration import duration_iso_string

from ssas.monitoring.tables import CHUNK_ROWS, app_models, columns_of, iter_rows

FORMAT = "ssas-tables/1"
# Tables `migrate` fills on a fresh database (post_migrate: content types, permissions and
# the app's role groups): a target holding only these counts as empty and is replaced.
SEEDED_BY_MIGRATE = {"django_content_type", "auth_permission", "auth_group",
                     "auth_group_permissions"}


class CopyError(Exception):
    """A refused or failed copy; the message says what and where (the target is unchanged)."""


def fk_order(model_list: list[type[models.Model]]) -> list[type[models.Model]]:
    """`model_list` sorted so every model comes after the models its foreign keys
    reference (self-references and references outside the list ignored; a cycle keeps
    the input order for its members, the checks at commit still catch bad rows)."""
    by_table = {m._meta.db_table: m for m in model_list}
    ordered: list[type[models.Model]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(model):
        table = model._meta.db_table
        if state.get(table):
            return
        state[table] = 1
        for field in model._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if field.is_relation and target is not None and target is not model:
                parent = by_table.get(target._meta.db_table)
                if parent is not None and not state.get(parent._meta.db_table):
                    visit(parent)
        state[table] = 2
        ordered.append(model)

    for model in model_list:
        visit(model)
    return ordered


def encode(value):
    """One column value as JSON (the field's to_python reads it back)."""
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot export a {type(value).__name__} value")


def export_lines(alias: str = "default", chunk: int = CHUNK_ROWS) -> Iterator[str]:
    """The export of every app table on `alias`, line by line (each ends with \\n).

    Reads in one transaction (REPEATABLE READ on PostgreSQL when it starts the
    transaction) so the copy is consistent.
    """
    connection = connections[alias]
    ordered = fk_order(app_models(alias))
    outermost = not connection.in_atomic_block  # else the caller's transaction decides
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield _line({"format": FORMAT, "vendor": connection.vendor, "tables": len(ordered)})
        total = 0
        for model in ordered:
            columns = columns_of(model)
            yield _line({"table": model._meta.db_table, "model": model._meta.label_lower,
                         "columns": columns})
            count = 0
            for row in iter_rows(model, alias, columns, chunk):
                yield _line([encode(v) for v in row])
                count += 1
            total += count
            yield _line({"end": model._meta.db_table, "rows": count})
        yield _line({"done": True, "tables": len(ordered), "rows": total})


def _line(item) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False) + "\n"


def occupied_tables(alias: str = "default") -> dict[str, int]:
    """Tables on `alias` that hold rows beyond what `migrate` creates: table -> rows."""
    found = {}
    for model in app_models(alias):
        if model._meta.db_table in SEEDED_BY_MIGRATE:
            continue
        rows = model._base_manager.db_manager(alias).count()
        if rows:
            found[model._meta.db_table] = rows
    return found


def import_lines(lines: Iterable[str], alias: str = "default", replace: bool = False,
                 batch: int = 500) -> dict[str, int]:
    """Load an export into `alias`; returns rows inserted per table.

    Raises CopyError (nothing changed) when the target holds data and `replace` is
    False, when the stream is not an export of this app's tables (unknown table, other
    columns, missing end marker) or when the rows break a constraint.
    """
    connection = connections[alias]
    known = {m._meta.db_table: m for m in app_models(alias)}
    if not replace:
        occupied = occupied_tables(alias)
        if occupied:
            listed = ", ".join(f"{t} ({n} rows)" for t, n in sorted(occupied.items()))
            raise CopyError(f"database '{alias}' is not empty: {listed}; "
                            "import only into a freshly migrated database (or --replace)")
    lines = iter(lines)
    counts: dict[str, int] = {}
    try:
        with transaction.atomic(using=alias):
            header = _read(lines, 1)
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise CopyError(f"line 1: not an {FORMAT} export")
            with connection.cursor() as cursor:
                for model in reversed(fk_order(list(known.values()))):
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (model metadata)
            with connection.constraint_checks_disabled():
                _load_tables(lines, known, connection, counts, batch)
            connection.check_constraints(table_names=list(counts))
            statements = connection.ops.sequence_reset_sql(
                no_style(), [known[t] for t in counts])
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
    except CopyError:
        raise
    except Exception as exc:  # a constraint or a value the target refuses: nothing kept
        raise CopyError(f"import into '{alias}' failed, nothing was changed: "
                        f"{type(exc).__name__}: {exc}") from exc
    return counts


def _read(lines: Iterator[str], number: int):
    try:
        return json.loads(next(lines))
    except StopIteration:
        raise CopyError(f"line {number}: the export ends early (truncated?)") from None
    except ValueError as exc:
        raise CopyError(f"line {number}: not JSON ({exc})") from None


def _load_tables(lines, known, connection, counts, batch) -> None:
    number = 1
    quote = connection.ops.quote_name
    while True:
        number += 1
        item = _read(lines, number)
        if isinstance(item, dict) and item.get("done"):
            if item.get("rows") != sum(counts.values()):
                raise CopyError(f"line {number}: export says {item.get('rows')} rows, "
                                f"read {sum(counts.values())}")
            return
        if not isinstance(item, dict) or "table" not in item:
            raise CopyError(f"line {number}: expected a table header")
        table = item["table"]
        model = known.get(table)
        if model is None:
            raise CopyError(f"line {number}: table {table} does not exist on the target "
                            "(another app version?)")
        columns = item["columns"]
        if columns != columns_of(model):
            raise CopyError(f"line {number}: {table} has other columns on the target "
                            f"({columns_of(model)} vs {columns}): another app version?")
        fields = [model._meta.get_field(_field_name(model, c)) for c in columns]
        # Identifiers come from the model's metadata (the header only selects a known
        # table and must list exactly its columns), quoted by the backend.
        names = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
        pending, count = [], 0
        with connection.cursor() as cursor:
            while True:
                number += 1
                row = _read(lines, number)
                if isinstance(row, dict):
                    if row.get("end") != table or row.get("rows") != count + len(pending):
                        raise CopyError(f"line {number}: bad end of table {table}")
                    break
                pending.append([f.get_db_prep_save(f.to_python(v), connection)
                                for f, v in zip(fields, row, strict=True)])
                if len(pending) >= batch:
                    cursor.executemany(sql, pending)
                    count += len(pending)
                    pending = []
            if pending:
                cursor.executemany(sql, pending)
                count += len(pending)
        counts[table] = count


def _field_name(model, attname: str) -> str:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field.name
    raise CopyError(f"{model._meta.db_table}: no column {attname}")


def write_export(stream: IO[str], alias: str = "default") -> None:
    """Write the export of `alias` to a text stream."""
    for line in export_lines(alias):
        stream.write(line)
