"""Import schools, academic years, subjects, students and scores from CSV/XLSX files.

    ssas-manage import_data FILE... [--kind KIND] [--map 'HEADER=column']... [--school CODE]
                            [--dry-run] [--skip-bad-rows] [--json]
    ssas-manage import_data --archive - ...     the files as a tar archive on stdin

Each file's kind comes from its name (students.csv, scores.xlsx, ...) or its headers; see
ssas.students.importing.columns for the columns and the header names accepted. All files are
imported in one transaction. Exit codes: 0 imported (or a clean dry run); 2 a file or row was
refused and nothing was imported (each reported as FILE:ROW: column: message); 3 with
--skip-bad-rows, the good rows were kept and the bad ones skipped. With --json
the report is one JSON document on stdout and the exit code is 0 whenever it was produced.
"""

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ssas.students.importing.archive import ArchiveError, unpack
from ssas.students.importing.columns import KINDS, SPECS, header_key
from ssas.students.importing.upsert import import_files


def refuse(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Import a school's data (CSV/XLSX), upserted by stable keys, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="CSV or XLSX files.")
        parser.add_argument("--archive", help="'-': read the files from a tar archive on stdin")
        parser.add_argument("--kind", choices=KINDS, help="What every file holds (default: "
                            "from each file's name or headers).")
        parser.add_argument("--map", action="append", default=[], dest="maps",
                            metavar="HEADER=column", help="Read HEADER as column.")
        parser.add_argument("--school", help="School code for rows without one.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check and count everything, keep nothing.")
        parser.add_argument("--skip-bad-rows", action="store_true",
                            help="Keep the good rows when some are bad.")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, files, archive, kind, maps, school, dry_run, skip_bad_rows,
               as_json, **options):
        if getattr(settings, "SSAS_SHARDS", None):
            raise refuse("import into a sharded deployment is not supported yet")
        named = self._archive_members() if archive == "-" else self._files(files)
        if not named:
            raise refuse("no files to import")
        report = import_files(named, kind=kind, extra_names=self._extra_names(maps),
                              school=school, dry_run=dry_run, skip_bad_rows=skip_bad_rows)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        for line in report.errors:
            self.stderr.write(line)
        if report.error_count > len(report.errors):
            self.stderr.write(f"... and {report.error_count - len(report.errors)} more")
        for f in report.files:
            ignored = f"; ignored columns: {', '.join(f.ignored_columns)}" \
                if f.ignored_columns else ""
            self.stdout.write(f"{f.file}: {f.kind}: {f.created} created, {f.updated} updated, "
                              f"{f.unchanged} unchanged, {f.skipped} bad rows{ignored}")
        if report.error_count and not (skip_bad_rows and report.files):
            raise refuse(f"{report.error_count} error(s); nothing was imported")
        self.stdout.write("dry run: nothing was kept" if dry_run else "imported")
        if report.error_count:
            raise CommandError(f"{sum(f.skipped for f in report.files)} bad row(s) skipped",
                               returncode=3)

    @staticmethod
    def _extra_names(maps: list[str]) -> dict[str, str]:
        names = {}
        for item in maps:
            header, sep, column = item.rpartition("=")
            if not sep or not header.strip() or not column.strip():
                raise refuse(f"--map {item!r}: expected 'HEADER=column'")
            known = {c.name for kind in SPECS.values() for c in kind.columns}
            if column.strip() not in known:
                raise refuse(f"--map {item!r}: no column '{column.strip()}' (columns: "
                             f"{', '.join(sorted(known))})")
            names[header_key(header)] = column.strip()
        return names

    @staticmethod
    def _files(paths: list[str]) -> list[tuple[str, bytes]]:
        named = []
        for path in paths:
            try:
                named.append((path, Path(path).read_bytes()))
            except OSError as exc:
                raise refuse(f"{path}: {exc.strerror}") from None
        return named

    @staticmethod
    def _archive_members() -> list[tuple[str, bytes]]:
        # Files arrive as a tar stream on stdin and are read in memory: student data is never
        # written to the web host's disk.
        try:
            return list(unpack(sys.stdin.buffer))
        except ArchiveError as exc:
            raise refuse(f"--archive: {exc}") from None
