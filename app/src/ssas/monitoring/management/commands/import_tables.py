"""`import_tables`: load an `export_tables` stream, all or nothing.

    ssas-manage import_tables [--database ALIAS] [--input FILE] [--replace]   # default: stdin
    ssas-manage import_tables --check-empty    # exit 1 when the database holds data

Refuses a database that already holds data (beyond what `migrate` creates) unless
`--replace`; runs in one transaction; resets sequences past the largest ids. Exit 1
with one line on stderr when refused or failed (the database is then unchanged).
"""

import io
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ssas.monitoring.tablecopy import CopyError, import_lines, occupied_tables


class Command(BaseCommand):
    help = "Import an export_tables stream into a freshly migrated database (one transaction)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--input", default="-", help="File to read (default: stdin).")
        parser.add_argument("--replace", action="store_true",
                            help="Replace the data of a database that is not empty.")
        parser.add_argument("--check-empty", action="store_true",
                            help="Only check that the database may be imported into "
                                 "(no data beyond what migrate creates); reads no input.")

    def handle(self, *args, **options):
        if options["check_empty"]:
            occupied = occupied_tables(options["database"])
            if occupied:
                listed = ", ".join(f"{t} ({n} rows)" for t, n in sorted(occupied.items()))
                raise CommandError(f"database '{options['database']}' is not empty: {listed}")
            self.stdout.write(f"database '{options['database']}' is empty.")
            return
        try:
            if options["input"] == "-":
                stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
                counts = import_lines(stream, options["database"], options["replace"])
            else:
                with open(options["input"], encoding="utf-8") as stream:
                    counts = import_lines(stream, options["database"], options["replace"])
        except (CopyError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Imported {sum(counts.values())} rows into {len(counts)} tables.")
