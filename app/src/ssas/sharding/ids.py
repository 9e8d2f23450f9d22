"""Disjoint auto-increment ids per shard, so a moved school keeps its ids.

After `migrate` on alias shard_N (N > 0) every 64-bit auto-increment table of the
school data starts at N * ID_BLOCK (unless it is already past that): ids of different
shards never collide. Other tables (32-bit ids, not school data) are left alone.
"""

from __future__ import annotations

import re

from django.db import connections, models

ID_BLOCK = 10**12


def shard_number(alias: str) -> int | None:
    """N of an alias "shard_N" (None for any other alias)."""
    match = re.fullmatch(r"shard_(\d+)", alias)
    return int(match.group(1)) if match else None


def separate_id_ranges(sender=None, using: str = "default", apps=None, **kwargs) -> None:
    """post_migrate handler: move the sequences of shard `using` to its id block."""
    from ssas.routers import is_sharded_model

    number = shard_number(using)
    if not number or sender is None or apps is None:
        return
    connection = connections[using]
    start = number * ID_BLOCK
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for model in apps.get_app_config(sender.label).get_models():
            if (not isinstance(model._meta.pk, models.BigAutoField)
                    or not is_sharded_model(model) or model._meta.db_table not in tables):
                continue
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                column = connection.ops.quote_name(model._meta.pk.column)
                # Only while the table holds no id of the block yet (re-running migrate
                # must not move a sequence back). Names quoted from the model's metadata.
                quoted = connection.ops.quote_name(table)
                sql = ("SELECT setval(pg_get_serial_sequence(%s, %s), %s, false) WHERE "  # noqa: S608
                       f"COALESCE((SELECT MAX({column}) FROM {quoted}), 0) < %s")
                cursor.execute(sql, [table, model._meta.pk.column, start, start])
            elif connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                if row is None:
                    cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                                   [table, start - 1])
                elif row[0] < start - 1:
                    cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                                   [start - 1, table])
