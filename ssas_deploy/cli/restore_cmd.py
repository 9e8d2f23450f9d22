"""`ssas-deploy restore`: the deployment's databases and media files back from its backups.

Exit codes: 0 restored, checked and serving; 1 a step failed after the restore began (the
step, the host and the commands to get back up are printed); 2 refused, nothing changed (no
backup, an unknown --backup, --at out of range, a host unreachable, no --yes without a
terminal, or the question answered no); 130 interrupted.
"""

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.cli.release_cmd import InventoryRequired, ProfileDefaulted, _profile_for
from ssas_deploy.console import display_error, err, out, reporting
from ssas_deploy.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID_INPUT

AtOption = Annotated[str | None, typer.Option(
    "--at", help="Restore the databases as they were at this moment, UTC: "
                 "'YYYY-MM-DD HH:MM:SS' (media files: the last snapshot at or before it).")]
BackupOption = Annotated[list[str] | None, typer.Option(
    "--backup", help="Restore this pgBackRest backup (a label from `backup list`) as it "
                     "ended; give one label per stanza on sharded deployments.")]
YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask before replacing the "
                                         "databases and media files.")]


def restore(inventory: InventoryRequired, profile: ProfileDefaulted = None,
            at: AtOption = None, backup: BackupOption = None, yes: YesOption = False) -> None:
    """Restore every database (pgBackRest) and the media files (restic), then verify.

    Latest state by default; --at for a moment (UTC), --backup for one backup as it ended.
    """
    from ssas_deploy.restore.run import prepare

    with reporting():
        deployment = load_deployment(_profile_for(profile, inventory), inventory, warn=False)
        plan = prepare(deployment, at, tuple(backup or ()))
    if not yes:
        _confirm(plan)
    code = _execute(deployment, plan, inventory, at, backup)
    if code:
        raise typer.Exit(code)


def _confirm(plan) -> None:
    what = plan.describe()
    if plan.databases_with_data:
        what += f"; {', '.join(plan.databases_with_data)} hold(s) a database now"
    if not sys.stdin.isatty():
        display_error(f"restore would stop the app and {what}. Nothing was changed: pass "
                      "--yes to do it")
        raise typer.Exit(EXIT_INVALID_INPUT)
    if not typer.confirm(f"Stop the app and {what}?"):
        display_error("nothing was changed")
        raise typer.Exit(EXIT_INVALID_INPUT)


def _execute(deployment, plan, inventory: Path, at, labels) -> int:
    from ssas_deploy.restore.run import StepFailed, execute

    started = time.monotonic()
    err().print(f"Restore: {plan.describe()}.", markup=False, highlight=False)
    count = [0]

    def progress(line: str) -> None:
        count[0] += 1
        err().print(f"[{count[0]}] {line}", markup=False, highlight=False)

    try:
        outcome = execute(deployment, plan, progress)
    except StepFailed as exc:
        display_error(str(exc))
        _way_back(deployment, plan, inventory, at, labels, exc.app_running)
        return EXIT_FAILED
    except KeyboardInterrupt:
        display_error("interrupted during the restore")
        _way_back(deployment, plan, inventory, at, labels, False)
        return EXIT_INTERRUPTED
    _print_tables(outcome)
    out().print(f"Restored in {time.monotonic() - started:.1f} s: the app is up and "
                "WAL archiving works (pgbackrest check).", markup=False, highlight=False)
    return 0


def _way_back(deployment, plan, inventory: Path, at, labels, app_running: bool) -> None:
    from ssas_deploy.restore.run import way_back

    console = err()
    if app_running:
        console.print("The app was restored and started again; only the check above failed.",
                      markup=False, highlight=False)
        return
    again = f"ssas-deploy restore --inventory {inventory}"
    if at:
        again += f" --at '{at}'"
    for label in labels or ():
        again += f" --backup {label}"
    console.print("The app is stopped. To get back up, run the restore again (it is safe to "
                  f"repeat):\n  {again} --yes\nor by hand, in this order:",
                  markup=False, highlight=False)
    for line in way_back(deployment, plan):
        console.print(f"  {line}", markup=False, highlight=False)


def _print_tables(outcome) -> None:
    from rich.table import Table

    tables = Table("table", "rows", "checksum", title="Restored tables (table_checksums)")
    total = 0
    for entry in outcome.checksums.get("tables", []):
        tables.add_row(entry["table"], str(entry["rows"]), str(entry["checksum"])[:16])
        total += int(entry["rows"])
    out().print(tables)
    out().print(f"{len(outcome.checksums.get('tables', []))} tables, {total} rows.",
                markup=False, highlight=False)
    timings = Table("step", "seconds", title="Timings")
    for name, seconds in outcome.timings:
        timings.add_row(name, f"{seconds:.1f}")
    out().print(timings)
