"""`ssas-deploy data import FILE...`: a school's CSV/XLSX exports into the deployed site.

The files are packed into a tar stream here and piped over SSH into the app's own
`import_data` command on the first web host, which reads them in memory (student data is
never written to the host's disk) and imports them in one transaction: schools, academic
years, subjects, students, then scores, upserted by their stable keys. The column reference
and template files: app/docs/import-templates/ (resources.import_templates_dir).

Exit codes: 0 imported (or a clean --dry-run); 1 the host failed or could not be reached;
2 a file could not be read or a row was refused, and nothing was imported (every bad row
listed as FILE:ROW: column: message); with --skip-bad-rows the good rows are kept, the bad
ones listed, and the exit code is 3.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.bounded_read import read_regular_file
from ssas_deploy.cli.release_cmd import InventoryRequired, ProfileDefaulted
from ssas_deploy.cli.web_host import manage_on_web_host
from ssas_deploy.console import display_error, out, print_raw
from ssas_deploy.errors import EXIT_INVALID_INPUT, InvalidInputError
from ssas_deploy.resources import import_templates_dir

EXIT_ROWS_SKIPPED = 3
KINDS = ("schools", "academic_years", "subjects", "students", "scores")
MAX_BYTES = 512 * 1024 * 1024  # the host's limit too (import_data)

app = typer.Typer(help="The site's data: import a school's CSV/XLSX exports.",
                  no_args_is_help=True)

FilesArgument = Annotated[list[Path], typer.Argument(
    help="CSV (UTF-8) or XLSX files: schools, academic years, subjects, students, "
         "scores. Kind from the file name or headers. Column reference and templates: "
         f"{import_templates_dir()}/", show_default=False, metavar="FILE")]


@app.command("import")
def import_data(
    files: FilesArgument,
    inventory: InventoryRequired,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count everything, "
                                                            "keep nothing.")] = False,
    skip_bad_rows: Annotated[bool, typer.Option(
        "--skip-bad-rows", help="Keep the good rows when some are bad (exit 3).")] = False,
    kind: Annotated[str | None, typer.Option(
        "--kind", metavar="KIND", help=f"What every file holds: {', '.join(KINDS)}.")] = None,
    maps: Annotated[list[str] | None, typer.Option(
        "--map", metavar="HEADER=column",
        help="Read another header name as a column (repeat).")
    ] = None,
    school: Annotated[str | None, typer.Option(
        "--school", metavar="CODE",
        help="School code for rows without one (default: the only school).")
    ] = None,
    profile: ProfileDefaulted = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON document "
                                                         "on stdout.")] = False,
) -> None:
    """Import a school's data in one transaction: importing a file twice changes nothing."""
    if kind is not None and kind not in KINDS:
        _refuse(f"--kind {kind}: expected one of {', '.join(KINDS)}")
    for item in maps or []:
        header, sep, column = item.rpartition("=")
        if not sep or not header.strip() or not column.strip():
            _refuse(f"--map {item!r}: expected 'HEADER=column'")
    archive = _pack(files)
    args = ["--archive", "-", "--json"]
    for flag, value in (("--kind", kind), ("--school", school)):
        if value:
            args += [flag, value]
    for item in maps or []:
        args += ["--map", item]
    args += ["--dry-run"] * dry_run + ["--skip-bad-rows"] * skip_bad_rows
    report = json.loads(manage_on_web_host(profile, inventory, "import_data", *args,
                                           stdin=archive, timeout=1800))
    if as_json:
        print_raw(json.dumps(report, indent=1))
    else:
        _show(report)
    if report["error_count"] and not report["committed"] and not (dry_run and skip_bad_rows):
        raise typer.Exit(EXIT_INVALID_INPUT)
    if report["error_count"]:
        raise typer.Exit(EXIT_ROWS_SKIPPED)


def _pack(files: list[Path]) -> bytes:
    """The files as an uncompressed tar stream, each named as the user gave it (so every
    message from the host names the user's file). Exit 2 before any connection when one
    cannot be read or they are too large."""
    import io
    import tarfile

    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in files:
            # A device, FIFO or directory is refused at once; the budget left for the
            # files together is enforced while reading, not after.
            try:
                data = read_regular_file(path, MAX_BYTES - total, "an import file")
            except InvalidInputError as refused:
                message = refused.problems[0].message
                if message.startswith("file is larger than"):
                    message = (f"the files are over {MAX_BYTES // 2**20} MiB in all; "
                               "import them in parts")
                _refuse(f"{path}: {message}")
            total += len(data)
            info = tarfile.TarInfo(str(path))
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _refuse(message: str):
    display_error(f"{message}; nothing was imported")
    raise typer.Exit(EXIT_INVALID_INPUT)


def _show(report: dict) -> None:
    from rich.table import Column, Table

    for line in report["errors"]:
        display_error(line)
    hidden = report["error_count"] - len(report["errors"])
    if hidden:
        display_error(f"... and {hidden} more")
    # A narrow terminal folds a long file name onto the next line rather than cutting it.
    table = Table(Column("file", overflow="fold"), "kind", "created", "updated", "unchanged",
                  "bad", Column("ignored columns", overflow="fold"))
    for f in report["files"]:
        table.add_row(f["file"], f["kind"], str(f["created"]), str(f["updated"]),
                      str(f["unchanged"]), str(f["skipped"]), ", ".join(f["ignored_columns"]))
    if report["files"]:
        out().print(table)
    if report["dry_run"]:
        verdict = "Dry run: nothing was kept."
    elif report["committed"]:
        verdict = "Imported." if not report["error_count"] else \
            f"Imported the good rows; {report['error_count']} bad row(s) skipped."
    else:
        verdict = f"{report['error_count']} error(s): nothing was imported."
    out().print(verdict, markup=False, highlight=False)
