"""`table_checksums`: row count, content checksum and sequence state of every app table.

    ssas-manage table_checksums [--database ALIAS] [--json]

The checksum of the same rows is identical on SQLite and PostgreSQL (see
ssas.monitoring.tables), so two databases can be compared table by table after a copy.
`--json` prints one document: {"database": ALIAS, "vendor": ..., "tables": [{"table",
"model", "rows", "checksum", "max_id", "next_id", "auto_pk", "sequence_ok"}, ...]}.
"""

import json

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from ssas.monitoring.tables import database_state


class Command(BaseCommand):
    help = ("Print row count, an engine-independent content checksum and the sequence "
            "state (max id, next id) of every app table.")

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help="Database alias to read (default: default).")
        parser.add_argument("--json", action="store_true", help="One JSON document.")

    def handle(self, *args, **options):
        alias = options["database"]
        states = database_state(alias)
        if options["json"]:
            self.stdout.write(json.dumps({
                "database": alias, "vendor": connections[alias].vendor,
                "tables": [s.as_dict() for s in states]}, indent=1))
            return
        width = max((len(s.table) for s in states), default=5)
        self.stdout.write(f"{'table':<{width}}  {'rows':>9}  {'checksum':<16}  "
                          f"{'max id':>9}  {'next id':>9}")
        for s in states:
            sequence = "" if not s.auto_pk else (
                f"{s.max_id if s.max_id is not None else '-':>9}  "
                f"{s.next_id if s.next_id is not None else '?':>9}"
                + ("" if s.sequence_ok else "  SEQUENCE BEHIND"))
            self.stdout.write(f"{s.table:<{width}}  {s.rows:>9}  {s.checksum[:16]}  {sequence}")
