"""Per-table row counts, content checksums and sequence state, equal across engines.

Used to prove that a copy of the data (SQLite -> PostgreSQL, one server -> another) kept
every row and every sequence: `ssas-manage table_checksums [--database ALIAS] [--json]`
prints the same checksum for the same rows on SQLite and on PostgreSQL.

How a checksum is made (engine independent by construction):

- Rows are read through the ORM (so each engine's converters give the same Python
  values) in primary-key order, in keyset chunks of CHUNK_ROWS rows (bounded memory).
- Each value is normalised to a tagged JSON value: datetimes to UTC ISO 8601, decimals
  to their canonical string, floats with repr, JSON values with sorted keys, bytes as
  hex, durations in microseconds, None as JSON null (so None differs from '').
- Each row (its column values in model field order) is hashed with SHA-256; the table's
  checksum is the sum of its row hashes modulo 2**256 (hex), so the result does not depend
  on how an engine collates text primary keys, only on the set of rows.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass

from django.apps import apps
from django.db import connections, models, router

CHUNK_ROWS = 2000
_MOD = 2**256
_AUTO_FIELDS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


@dataclass(frozen=True)
class TableState:
    """One table's fingerprint on one database alias.

    `max_id` and `next_id` are None for tables without an integer auto primary key;
    `next_id` is the value the sequence hands out next (None when it cannot be read).
    """

    table: str
    model: str
    rows: int
    checksum: str
    max_id: int | None = None
    next_id: int | None = None

    auto_pk: bool = False

    @property
    def sequence_ok(self) -> bool | None:
        """True when the next id is past every existing id; None without an auto key."""
        if not self.auto_pk:
            return None
        return self.next_id is not None and self.next_id > (self.max_id or 0)

    def as_dict(self) -> dict:
        """JSON-ready dict (adds `sequence_ok`)."""
        return {**asdict(self), "sequence_ok": self.sequence_ok}


def app_models(alias: str = "default") -> list[type[models.Model]]:
    """Every concrete, managed model stored on `alias` (M2M through tables included),
    one per table, sorted by table name."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        if not router.allow_migrate_model(alias, model):
            continue
        found.setdefault(meta.db_table, model)
    return [found[name] for name in sorted(found)]


def normalise(value):
    """A JSON-serialisable, engine-independent form of one column value.

    Raises TypeError for a value type it does not know (so nothing is silently skipped).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"f": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {"d": canonical_decimal(value)}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return {"dt": value.isoformat()}
    if isinstance(value, (datetime.date, datetime.time)):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"us": (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b": bytes(value).hex()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, (dict, list)):
        return {"j": json.dumps(value, sort_keys=True, separators=(",", ":"))}
    raise TypeError(f"cannot normalise a {type(value).__name__} value")


def canonical_decimal(value: decimal.Decimal) -> str:
    """'1.50', '1.5' and '1.500' all give '1.5'; '100' stays '100' (never '1E+2')."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def row_digest(values) -> int:
    """SHA-256 of one row's normalised values, as an integer."""
    payload = json.dumps([normalise(v) for v in values], separators=(",", ":"),
                         ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(payload.encode()).digest(), "big")


def iter_rows(model, alias: str, columns: list[str], chunk: int = CHUNK_ROWS):
    """Rows (tuples of `columns`) of `model` on `alias` in primary-key order, read in
    keyset chunks of `chunk` rows: memory stays bounded whatever the table's size."""
    pk = model._meta.pk.attname
    manager = model._base_manager.db_manager(alias)
    position = columns.index(pk)
    last = None
    while True:
        query = manager.order_by(pk)
        if last is not None:
            query = query.filter(**{f"{pk}__gt": last})
        batch = list(query.values_list(*columns)[:chunk])
        yield from batch
        if len(batch) < chunk:
            return
        last = batch[-1][position]


def columns_of(model) -> list[str]:
    """The model's concrete column attribute names, in field order."""
    return [f.attname for f in model._meta.concrete_fields]


def table_state(model, alias: str = "default", chunk: int = CHUNK_ROWS) -> TableState:
    """Count, checksum and sequence state of one model's table on `alias`."""
    total, rows = 0, 0
    for row in iter_rows(model, alias, columns_of(model), chunk):
        total = (total + row_digest(row)) % _MOD
        rows += 1
    max_id = next_id = None
    auto_pk = isinstance(model._meta.pk, _AUTO_FIELDS)
    if auto_pk:
        max_id, next_id = sequence_state(model, alias)
    return TableState(model._meta.db_table, model._meta.label_lower, rows,
                      f"{total:064x}", max_id, next_id, auto_pk)


def sequence_state(model, alias: str) -> tuple[int | None, int | None]:
    """(max primary key or None, next value the table's sequence gives or None)."""
    connection = connections[alias]
    table = model._meta.db_table
    column = model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({quote(column)}) FROM {quote(table)}")  # noqa: S608 (model metadata)
        max_id = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            if sequence is None:
                return max_id, None
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 (model metadata)
            last_value, is_called = cursor.fetchone()
            return max_id, last_value + 1 if is_called else last_value
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
            # AUTOINCREMENT tables hand out max(seq, max(rowid)) + 1.
            return max_id, max(found[0] if found else 0, max_id or 0) + 1
    return max_id, None


def database_state(alias: str = "default", chunk: int = CHUNK_ROWS) -> list[TableState]:
    """TableState of every app table on `alias`, sorted by table name."""
    return [table_state(model, alias, chunk) for model in app_models(alias)]
