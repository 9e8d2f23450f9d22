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
from ssas_deploy.cli.secrets_cmd import VaultPasswordFileOption
from ssas_deploy.console import display_error, err, out, reporting
from ssas_deploy.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID_INPUT,
    InvalidInputError,
)

AtOption = Annotated[str | None, typer.Option(
    "--at", help="Restore the databases as they were at this moment, UTC: "
                 "'YYYY-MM-DD HH:MM:SS' (media files: the last snapshot at or before it).")]
BackupOption = Annotated[list[str] | None, typer.Option(
    "--backup", metavar="LABEL",
    help="Restore this pgBackRest backup (a label from `backup list`) as it ended; give one "
         "label per stanza on sharded deployments.")]
ToHostOption = Annotated[list[str] | None, typer.Option(
    "--to-host", metavar="NAME[=ADDRESS]",
    help="Restore onto a new machine that replaces this database host: NAME (the inventory "
         "already gives the new address) or NAME=ADDRESS (the inventory is rewritten, the old "
         "one kept as <inventory>.before-restore). The new machine is set up from bare first; "
         "every host is then pointed at it.")]
YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask before replacing the "
                                         "databases and media files.")]


def restore(inventory: InventoryRequired, profile: ProfileDefaulted = None,
            at: AtOption = None, backup: BackupOption = None, to_host: ToHostOption = None,
            yes: YesOption = False,
            vault_password_file: VaultPasswordFileOption = None) -> None:
    """Restore every database (pgBackRest) and the media files (restic), then verify.

    Latest state by default; --at for a moment (UTC), --backup for one backup as it ended;
    --to-host onto a new machine that replaces a database host.
    """
    from ssas_deploy.context.patroni import patroni_cluster
    from ssas_deploy.inventory import known_hosts_for
    from ssas_deploy.restore import replacement as rep
    from ssas_deploy.restore.run import prepare, stanza_hosts

    staged = None
    pins_before: str | None = None  # known_hosts as it was, until the restore is confirmed
    try:
        with reporting():
            profile_ref = _profile_for(profile, inventory)
            replacements = rep.parse_replacements(to_host or [])
            text = rep.rewritten_inventory(inventory, replacements) if replacements else None
            staged = rep.staged_inventory(inventory, text) if text is not None else None
            try:
                # A staged copy pins keys in the real inventory's known_hosts, not its own.
                deployment = load_deployment(profile_ref, staged or inventory, warn=False,
                                             known_hosts=known_hosts_for(inventory))
            except InvalidInputError as exc:
                raise (rep.as_given(exc, staged, inventory, replacements) if staged
                       else exc) from None
            members = [h.name for h in patroni_cluster(deployment.topology)]
            rep.check_not_cluster_members(replacements, members)
            rep.check_no_patroni_cluster(members)
            rep.check_replaceable(replacements, [h.name for _, h in stanza_hosts(deployment)])
            if replacements:
                _open_vault(inventory, vault_password_file)
            pins_before = _forget_replaced_host_keys(deployment, replacements, inventory)
            plan = prepare(deployment, at, tuple(backup or ()),
                           replaced=tuple(r.name for r in replacements))
        if not yes:
            _confirm(plan)
        pins_before = None  # confirmed: the new machines' keys, pinned by the probes, stay
        if staged is not None:
            kept = rep.commit_inventory(inventory, staged, time.strftime("%Y%m%d%H%M%S"))
            staged = None
            err().print(f"{inventory}: the new address(es) written; the inventory as it was "
                        f"is kept as {kept}.", markup=False, highlight=False)
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)
        if pins_before is not None:  # refused or declined: nothing changed, the pins neither
            known_hosts_for(inventory).write_text(pins_before, encoding="ascii")
    runs = (_replacement_runs(deployment, plan, profile_ref, inventory, vault_password_file)
            if replacements else None)
    code = _execute(deployment, plan, inventory, at, backup, runs, profile)
    if code:
        raise typer.Exit(code)


def _open_vault(inventory: Path, vault_password_file: Path | None) -> None:
    """The new machines are set up by `apply` with the deployment's secrets: open its vault
    now, before the inventory or the pinned keys change. A missing vault is refused (new
    secrets would not match the restored databases' roles); so is a missing or wrong
    password (InvalidInputError, exit 2)."""
    from ssas_deploy.errors import Problem
    from ssas_deploy.secrets.store import SecretStore

    store = SecretStore(inventory, password_file=vault_password_file)
    if not store.exists():
        raise InvalidInputError([Problem(
            store.path, None, "--to-host",
            "the deployment's secrets vault is not here; --to-host sets the new machine up "
            "with those secrets: put the vault file back from your copy, then run restore "
            "again")])
    store.records()


def _forget_replaced_host_keys(deployment, replacements, inventory: Path) -> str | None:
    """Forget the host keys pinned for the replacing machines' addresses before anything
    connects (the probes of `prepare` included): a new machine has its own key, even on the
    old address, and --to-host says it is new. Its key is pinned again on first contact.

    Returns the known_hosts text as it was (None when there was no file), which the caller
    writes back if the restore is refused or not confirmed."""
    from ssas_deploy.inventory import known_hosts_for
    from ssas_deploy.runner.host_keys import forget_host_key

    known_hosts = known_hosts_for(inventory)
    if not replacements or not known_hosts.exists():
        return None
    before = known_hosts.read_text(encoding="ascii")
    for replacement in replacements:
        host = deployment.topology.by_name(replacement.name)
        forget_host_key(known_hosts, host.address, host.ssh.port)
    return before


def _replacement_runs(deployment, plan, profile_ref: str, inventory: Path,
                      vault_password_file: Path | None = None):
    """The two applies of --to-host: the new machines (and the backup host) from bare, then
    every host pointed at them."""
    from ssas_deploy.backups import backup_host
    from ssas_deploy.restore.run import ReplacementRuns

    replaced = [t.host for t in plan.stanzas if t.host.name in plan.replaced]
    limit = ",".join([h.name for h in replaced] + [backup_host(deployment).name])

    def provision() -> None:
        _apply_run(deployment, profile_ref, inventory, limit,
                   {"backup_replacing_database": True}, f"apply --limit {limit}",
                   vault_password_file)

    def reconfigure() -> None:
        _apply_run(deployment, profile_ref, inventory, None, {}, "apply", vault_password_file)

    return ReplacementRuns(provision, reconfigure)


def _apply_run(deployment, profile_ref: str, inventory: Path, limit: str | None,
               extra_vars: dict, what: str, vault_password_file: Path | None = None) -> None:
    """One apply of the site playbook; OperationFailedError naming its log unless it
    succeeded (the full one is recorded like `ssas-deploy apply`)."""
    from ssas_deploy.cli.apply_cmd import record_run, report_run
    from ssas_deploy.errors import OperationFailedError
    from ssas_deploy.runner.apply import apply_deployment

    result = apply_deployment(deployment, inventory, limit=limit, extra_vars=extra_vars,
                              vault_password_file=vault_password_file, console=err())
    code = report_run(result)
    if limit is None:
        record_run(inventory, profile_ref, "apply", result, code)
    if code:
        raise OperationFailedError(f"{what} failed (exit {code}); ansible-playbook's output: "
                                   f"{result.log}")


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


def _execute(deployment, plan, inventory: Path, at, labels, runs=None, profile=None) -> int:
    from ssas_deploy.restore.run import StepFailed, execute

    started = time.monotonic()
    err().print(f"Restore: {plan.describe()}.", markup=False, highlight=False)
    count = [0]

    def progress(line: str) -> None:
        count[0] += 1
        err().print(f"[{count[0]}] {line}", markup=False, highlight=False)

    try:
        outcome = execute(deployment, plan, progress, runs)
    except StepFailed as exc:
        display_error(str(exc))
        _way_back(deployment, plan, inventory, at, labels, exc.app_running, profile)
        return EXIT_FAILED
    except KeyboardInterrupt:
        display_error("interrupted during the restore")
        _way_back(deployment, plan, inventory, at, labels, False, profile)
        return EXIT_INTERRUPTED
    _print_tables(outcome)
    seconds = time.monotonic() - started
    _record(inventory, plan, outcome, seconds)
    out().print(f"Restored in {seconds:.1f} s: the app is up and "
                "WAL archiving works (pgbackrest check).", markup=False, highlight=False)
    return 0


def _record(inventory: Path, plan, outcome, seconds: float) -> None:
    """Beside the inventory, for `handover` (recovery tested, the disaster-recovery drill)."""
    from ssas_deploy.console import display_warning
    from ssas_deploy.release_status import write_last_restore

    tables = outcome.checksums.get("tables", [])
    record = {"time": time.time(), "point": plan.point(), "to_host": list(plan.replaced),
              "tables": len(tables), "rows": sum(int(t["rows"]) for t in tables),
              "seconds": round(seconds, 1)}
    try:
        write_last_restore(inventory, record)
    except OSError as exc:
        display_warning(f"could not record this restore beside the inventory: {exc}")


def _way_back(deployment, plan, inventory: Path, at, labels, app_running: bool,
              profile: str | None = None) -> None:
    from ssas_deploy.restore.run import way_back
    from ssas_deploy.ssh import shell_word

    console = err()
    if app_running:
        console.print("The app was restored and started again; only the check above failed.",
                      markup=False, highlight=False)
        return
    again = f"ssas-deploy restore --inventory {shell_word(str(inventory))}"
    if profile:
        again += f" --profile {shell_word(profile)}"
    if at:
        again += f" --at '{at}'"
    for label in labels or ():
        again += f" --backup {label}"
    for name in plan.replaced:
        again += f" --to-host {name}"
    if plan.replaced:
        console.print("The app is stopped. To get back up, run the restore again (it is safe "
                      f"to repeat; the inventory already names the new machine):\n  {again} "
                      "--yes", markup=False, highlight=False)
        return
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
