"""`ssas-deploy apply`: preflight, then the site playbook with live progress and a recap."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssas_deploy.cli.options import ProfileOption, load_deployment
from ssas_deploy.cli.secrets_cmd import VaultPasswordFileOption
from ssas_deploy.console import display_error, display_warning, err, out, reporting
from ssas_deploy.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PREFLIGHT

if TYPE_CHECKING:
    from ssas_deploy.runner.playbook import RunResult


def apply(
    profile: ProfileOption,
    inventory: Annotated[Path, typer.Option("--inventory", "-i", help="hosts.yaml mapping the "
                                            "profile's roles to addresses.")],
    limit: Annotated[str | None, typer.Option(help="Only these hosts or groups "
                                              "(Ansible pattern).")] = None,
    tags: Annotated[str | None, typer.Option(help="Only tasks with these tags.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Change nothing; report what "
                                        "would change.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show file differences.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Continue past hardware shortfalls "
                                        "(with a warning).")] = False,
    skip_preflight: Annotated[bool, typer.Option("--skip-preflight",
                                                 help="Do not check the hosts first.")] = False,
    wheelhouse: Annotated[Path | None, typer.Option(help="Prebuilt app wheelhouse "
                                                    "(default: build the bundled app).")] = None,
    vault_password_file: VaultPasswordFileOption = None,
) -> None:
    """Deploy SSAS onto the inventory's hosts, safely and idempotently."""
    from ssas_deploy.runner.interrupts import RunInterrupted, interrupt_guard

    # SIGINT and SIGTERM: Ansible is stopped in order, the run dir removed, exit 130.
    with interrupt_guard() as guard:
        try:
            code = _apply(profile, inventory, limit=limit, tags=tags, check=check, diff=diff,
                          force=force, skip_preflight=skip_preflight, wheelhouse=wheelhouse,
                          vault_password_file=vault_password_file, guard=guard)
        except RunInterrupted as stop:
            report_interrupted(stop.signum, None)
            code = EXIT_INTERRUPTED
    if code != EXIT_OK:
        raise typer.Exit(code)


def _apply(profile: str, inventory: Path, *, limit: str | None, tags: str | None, check: bool,
           diff: bool, force: bool, skip_preflight: bool, wheelhouse: Path | None,
           vault_password_file: Path | None, guard) -> int:
    from ssas_deploy.runner.apply import apply_deployment, provided_tls_chain

    with reporting():
        deployment = load_deployment(profile, inventory)
        # Before preflight reaches the hosts: a missing or expired certificate is known now.
        provided_tls_chain(deployment, inventory, warn=False)
        if not skip_preflight:
            _preflight(deployment, force)
        result = apply_deployment(deployment, inventory, check=check, diff=diff, limit=limit,
                                  tags=tags, wheelhouse=wheelhouse,
                                  vault_password_file=vault_password_file, console=err(),
                                  guard=guard)
    code = report_run(result, check=check)
    if not check:
        record_run(inventory, profile, "apply", result, code)
    if code == EXIT_OK and not check and not limit and not tags:
        print_next_steps(deployment, profile, inventory)
    return code


def print_next_steps(deployment, profile: str, inventory: Path) -> None:
    """After a full successful apply: the site's URL, the commands that create the first
    staff accounts and the one that writes the handover report for the school's IT staff."""
    from ssas_deploy.handover.commands import (
        data_import_command,
        handover_command,
        user_create_command,
    )
    from ssas_deploy.resources import import_templates_dir

    console = out()
    console.print(f"SSAS is running: {_site_url(deployment)}", markup=False)
    console.print("Create the first staff accounts (each password goes to its 0600 file "
                  "only; staff sign in at /accounts/login/):", markup=False)
    console.print(f"  {user_create_command(inventory, 'principal', 'admin')}", markup=False)
    console.print("Import the school's data (CSV/XLSX exports; templates in "
                  f"{import_templates_dir()}/; without --dry-run to keep it):", markup=False)
    console.print(f"  {data_import_command(inventory)}", markup=False)
    console.print("Then each teacher, with the classes they teach:", markup=False)
    console.print(f"  {user_create_command(inventory, 'teacher-name', 'teacher')}",
                  markup=False)
    console.print("Write the handover report for the school's IT staff:", markup=False)
    console.print(f"  {handover_command(profile, inventory)}", markup=False)


def record_run(inventory: Path, profile: str, action: str, result: "RunResult",
               code: int) -> None:
    """Remember the last apply/rollback beside the inventory for `status` and `rollback`.

    The profile is stored as given, made absolute when it names a file, so later commands can
    omit --profile. Never raises: a record that cannot be written only costs that default.
    """
    import time

    from ssas_deploy.release_status import write_last_apply

    given = Path(profile)
    record = {"action": action, "time": time.time(),
              "result": "ok" if code == EXIT_OK else ("interrupted" if code == EXIT_INTERRUPTED
                                                      else "failed"),
              "changed": result.changed if code == EXIT_OK else None,
              "profile": str(given.resolve()) if given.is_file() else profile}
    try:
        write_last_apply(inventory, record)
    except OSError as exc:
        display_warning(f"could not record this {action} beside the inventory: {exc}")


def report_run(result: "RunResult", *, check: bool = False) -> int:
    """Print the outcome of a run and return the command's exit code.

    Interrupted: which hosts were mid-change, exit 130 (see `report_interrupted`). Otherwise the
    recap (stdout), then either every problem of `result.verdict()` (stderr, exit 1) or the
    number of changed tasks (exit 0). A run that cannot be proven to have succeeded never
    reports a change count.
    """
    from ssas_deploy.runner.progress import recap_table

    if result.interrupted is not None:
        report_interrupted(result.interrupted, result)
        return EXIT_INTERRUPTED
    if result.state.recap:
        out().print(recap_table(result.state))
    if not result.stopped_cleanly:
        display_error("some of Ansible's processes survived SIGKILL; check with `ps -ej`")
    verdict = result.verdict()
    if not verdict.ok:
        for problem in verdict.problems:
            display_error(problem)
        if not any(str(result.log) in problem for problem in verdict.problems):
            _note(f"ansible-playbook's output: {result.log}")
        return EXIT_FAILED
    if not result.stopped_cleanly:
        return EXIT_FAILED
    verb = "would change" if check else "changed"
    out().print(f"{result.changed} task(s) {verb}.")
    print_changed_tasks(result.state.changed_tasks)
    return EXIT_OK


CHANGED_TASKS_SHOWN = 20


def print_changed_tasks(changed: list[tuple[str, str]]) -> None:
    """List `changed` ((host, task name) pairs, in run order) below the count, at most
    CHANGED_TASKS_SHOWN of them, so an operator sees what a run touched without the log."""
    for host, task in changed[:CHANGED_TASKS_SHOWN]:
        out().print(f"  {host}: {task}", markup=False, highlight=False)
    if len(changed) > CHANGED_TASKS_SHOWN:
        out().print(f"  ... and {len(changed) - CHANGED_TASKS_SHOWN} more (see the log)")


def report_interrupted(signum: int, result: "RunResult | None") -> None:
    """Tell (stderr) what an interrupt by `signum` left behind.

    `result` is None, or has no return code, when Ansible had not been started: then no host
    was changed. Otherwise names every host that was mid-change (started a task, no final
    stats) with its current task, any failure seen before, and that re-running converges.
    """
    from ssas_deploy.runner.interrupts import signal_name

    name = signal_name(signum)
    if result is None or result.returncode is None:
        display_error(f"interrupted ({name}) before Ansible started: no host was changed")
        return
    display_error(f"interrupted ({name}): Ansible was stopped")
    mid_change = result.state.mid_change()
    if mid_change:
        _note("Hosts that were in the middle of a change (the task may or may not have "
              "finished there):")
        for host, task in mid_change:
            _note(f"  {host}: task '{task}'")
    else:
        _note("No host was in the middle of a change.")
    for failure in result.state.failures:
        display_error(f"{failure.host}: task '{failure.task}' failed: {failure.message}")
    if result.stopped_cleanly:
        _note("Nothing else will be changed. Re-run `ssas-deploy apply` to converge every host "
              "to the profile.")
    else:
        display_error("some of Ansible's processes survived SIGKILL and may still change "
                      "hosts; check with `ps -ej`, then re-run `ssas-deploy apply`")
    _note(f"ansible-playbook's output: {result.log}")


def _note(message: str) -> None:
    err().print(message, markup=False, highlight=False)


def _site_url(deployment) -> str:
    from ssas_deploy.profiles.models import Role

    lb = deployment.topology.first(Role.load_balancer)
    return f"https://{lb.address}/ (server name {deployment.profile.site.server_name})"


def _preflight(deployment, force: bool) -> None:
    from ssas_deploy.preflight import print_report, run_preflight

    report = run_preflight(deployment, force=force)
    if not report.ok:
        print_report(err(), report)
        raise typer.Exit(EXIT_PREFLIGHT)
    for host, check in report.warnings():
        display_warning(f"{host.host}: {check.name}: {check.message}")
