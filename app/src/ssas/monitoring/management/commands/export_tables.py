"""`export_tables`: every app table as JSON lines (see ssas.monitoring.tablecopy).

    ssas-manage export_tables [--database ALIAS] [--output FILE]   # default: stdout

Streams (bounded memory), in foreign-key-safe order, from one consistent read
transaction. Stop the app's writers first for a copy that is also current.
"""

import sys

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from ssas.monitoring.tablecopy import write_export


class Command(BaseCommand):
    help = "Export every app table (rows with their ids) as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--output", default="-", help="File to write (default: stdout).")

    def handle(self, *args, **options):
        if options["output"] == "-":
            write_export(sys.stdout, options["database"])
            sys.stdout.flush()
            return
        with open(options["output"], "w", encoding="utf-8") as stream:
            write_export(stream, options["database"])
