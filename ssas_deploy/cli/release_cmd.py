"""`ssas-deploy status` (what runs where) and `ssas-deploy rollback` (back one release)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.cli.secrets_cmd import VaultPasswordFileOption
from ssas_deploy.console import err, out, print_raw, reporting
from ssas_deploy.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, InvalidInputError

InventoryRequired = Annotated[Path, typer.Option("--inventory", "-i", help="hosts.yaml of the "
                                                 "deployment.")]
ProfileDefaulted = Annotated[str | None, typer.Option(
    "--profile", "-p", help="Profile name or file (default: the one the last apply used).")]


def _profile_for(profile: str | None, inventory: Path) -> str:
    from ssas_deploy.errors import Problem
    from ssas_deploy.release_status import last_apply_record, read_last_apply

    if profile:
        return profile
    if not inventory.is_file():
        raise InvalidInputError([Problem(str(inventory), None, "--inventory",
                                         "no such file")])
    record = read_last_apply(inventory)
    if record and record.get("profile"):
        return record["profile"]
    missing = last_apply_record(inventory).name
    raise InvalidInputError([Problem(str(inventory), None, "--profile",
                                     f"no apply recorded for this inventory ({missing} "
                                     "beside it is missing or unreadable): pass --profile")])


def status(
    inventory: InventoryRequired,
    profile: ProfileDefaulted = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Per host: the app release it runs, its units, readiness, the load balancer's view."""
    from ssas_deploy.release_status import age, collect, read_last_apply

    with reporting():
        deployment = load_deployment(_profile_for(profile, inventory), inventory, warn=False)
        hosts = collect(deployment)
    record = read_last_apply(inventory)
    if as_json:
        print_raw(json.dumps({"last_apply": record, "hosts": [h.__dict__ for h in hosts]},
                             indent=1, default=str))
    else:
        _print_status(hosts, record, age)
    if any(h.error for h in hosts):
        raise typer.Exit(EXIT_FAILED)


def _print_status(hosts, record, age) -> None:
    from rich.table import Table

    table = Table("host", "address", "roles", "release", "previous", "units", "ready",
                  title="SSAS status")
    for h in hosts:
        units = ", ".join(f"{u.removesuffix('.service')}: {v.get('state')}"
                          + ("" if v.get("release") in (None, h.current)
                             else f" (runs {v.get('release')})")
                          for u, v in h.units.items())
        if h.backends:
            units = ", ".join(f"{s} {state}" for s, state in h.backends.items())
        table.add_row(h.name, h.address, " ".join(h.roles),
                      (h.error and "ERROR") or (h.current or "-"), h.previous or "-",
                      h.error or units or "-", h.ready or "-")
    out().print(table)
    if record:
        out().print(f"Last {record.get('action', 'apply')}: {record.get('result')} "
                    f"({age(record.get('time', 0))}, {record.get('changed', '?')} task(s) "
                    f"changed, profile {record.get('profile')})")
    else:
        out().print("No apply recorded for this inventory.")


def rollback(
    inventory: InventoryRequired,
    profile: ProfileDefaulted = None,
    vault_password_file: VaultPasswordFileOption = None,
) -> None:
    """Return every app host to the release it ran before (code and settings), drained."""
    from ssas_deploy.cli.apply_cmd import record_run, report_interrupted, report_run
    from ssas_deploy.runner.interrupts import RunInterrupted, interrupt_guard

    code = EXIT_OK
    with interrupt_guard() as guard:
        try:
            with reporting():
                profile_ref = _profile_for(profile, inventory)
                deployment = load_deployment(profile_ref, inventory, warn=False)
                result = _run_rollback(deployment, inventory, vault_password_file, guard)
            code = report_run(result)
            record_run(inventory, profile_ref, "rollback", result, code)
        except RunInterrupted as stop:
            report_interrupted(stop.signum, None)
            code = EXIT_INTERRUPTED
    if code != EXIT_OK:
        raise typer.Exit(code)
    out().print("Rolled back: every app host runs its previous release "
                "(`ssas-deploy status` shows which; a second rollback rolls forward again).")


def _run_rollback(deployment, inventory: Path, vault_password_file: Path | None, guard):
    from ssas_deploy.inventory import known_hosts_for
    from ssas_deploy.runner.apply import host_secrets, last_log_for, run_with_secrets
    from ssas_deploy.runner.playbook import RunOptions
    from ssas_deploy.runner.workspace import ansible_inventory
    from ssas_deploy.secrets import deployment_secrets

    stored = deployment_secrets(inventory, vault_password_file)
    return run_with_secrets(ansible_inventory(deployment, {}),
                            host_secrets(stored),
                            # Only the app hosts take part (the load balancers are reached by
                            # delegation): only they must report final stats.
                            RunOptions(playbook="rollback.yml", limit="web:celery_worker"),
                            console=err(),
                            known_hosts=known_hosts_for(inventory),
                            saved_log=last_log_for(inventory), guard=guard)
