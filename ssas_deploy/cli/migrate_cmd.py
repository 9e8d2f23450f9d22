"""`ssas-deploy migrate`: move a running school to another tier's hosts, verified per table.

Steps (each stops the run on failure, naming what happened and how to restart the source):
check the two profiles and inventories -> apply the target profile (the `apply` verb's own
code) -> the target database must be empty -> stop the source's app (gunicorn, Celery;
its data is only read from then on) and the target's -> copy (export on the source,
streamed through this machine, one-transaction import on the target) -> table_checksums on
both sides, compared per table -> start the target's app, wait until ready -> the API's
answers for a sample of students equal on both sides -> the switch: the new site URL.
"""

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.cli.secrets_cmd import VaultPasswordFileOption
from ssas_deploy.console import display_error, err, out, reporting
from ssas_deploy.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID_INPUT,
    EXIT_OK,
    InvalidInputError,
    Problem,
    SsasDeployError,
)

READY_TIMEOUT_S = 180


def migrate(
    from_profile: Annotated[str, typer.Option("--from-profile", help="Profile the school "
                                              "runs now (name or file).")],
    from_inventory: Annotated[Path, typer.Option("--from-inventory", help="hosts.yaml of the "
                                                 "running school.")],
    to_profile: Annotated[str, typer.Option("--to-profile", help="Profile to move to.")],
    inventory: Annotated[Path, typer.Option("--inventory", "-i", help="hosts.yaml of the new "
                                            "hosts (none shared with the source).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before stopping the running "
                                      "school's app.")] = False,
    force: Annotated[bool, typer.Option("--force", help="apply: continue past hardware "
                                        "shortfalls of the new hosts.")] = False,
    sample: Annotated[int, typer.Option("--sample", min=1, help="Students whose API answers "
                                        "are compared.")] = 10,
    vault_password_file: VaultPasswordFileOption = None,
) -> None:
    """Move a school's data to another profile's hosts; verify every table; switch last."""
    from ssas_deploy.cli.apply_cmd import report_interrupted
    from ssas_deploy.runner.interrupts import RunInterrupted, interrupt_guard

    started = time.monotonic()
    with reporting():
        source, target = _load_pair(from_profile, from_inventory, to_profile, inventory)
    if not yes:
        _confirm(source)
    _step(1, f"apply {to_profile} to {inventory}")
    with interrupt_guard() as guard:
        try:
            from ssas_deploy.cli.apply_cmd import _apply

            code = _apply(to_profile, inventory, limit=None, tags=None, check=False,
                          diff=False, force=force, skip_preflight=False, wheelhouse=None,
                          vault_password_file=vault_password_file, guard=guard)
        except RunInterrupted as stop:
            report_interrupted(stop.signum, None)
            code = EXIT_INTERRUPTED
    if code != EXIT_OK:
        display_error("migration stopped: the target could not be applied; the source was "
                      "not touched")
        raise typer.Exit(code)
    try:
        code = _move(source, target, sample, started)
    except KeyboardInterrupt:
        display_error("interrupted: the target's import is rolled back with its transaction")
        _how_to_restart(source)
        code = EXIT_INTERRUPTED
    if code != EXIT_OK:
        raise typer.Exit(code)


def _load_pair(from_profile: str, from_inventory: Path, to_profile: str, inventory: Path):
    from ssas_deploy.migration.compat import migration_problems, overlapping_addresses

    source = load_deployment(from_profile, from_inventory, warn=False)
    target = load_deployment(to_profile, inventory)
    problems = migration_problems(source.profile, target.profile, _file(from_profile),
                                  _file(to_profile))
    shared = overlapping_addresses(source.topology.hosts, target.topology.hosts)
    if shared:
        problems.append(Problem(inventory, None, "hosts",
                                f"address(es) {', '.join(shared)} are also in "
                                f"{from_inventory}: a migration needs new hosts (the source "
                                "stays untouched)"))
    if inventory.resolve() == from_inventory.resolve():
        problems.append(Problem(inventory, None, "", "--inventory is the --from-inventory"))
    if problems:
        raise InvalidInputError(problems)
    return source, target


def _file(reference: str) -> Path | None:
    path = Path(reference)
    return path if path.is_file() else None


def _confirm(source) -> None:
    import sys

    if not sys.stdin.isatty():
        display_error("migrate stops the running school's app for the copy: pass --yes")
        raise typer.Exit(EXIT_INVALID_INPUT)
    names = ", ".join(h.name for h in _app_hosts(source))
    if not typer.confirm(f"Stop the app on {names} for the copy (downtime until the switch)?"):
        raise typer.Exit(EXIT_INVALID_INPUT)


def _app_hosts(deployment):
    from ssas_deploy.profiles.models import Role

    return [h for h in deployment.topology.hosts
            if h.has(Role.web) or h.has(Role.celery_worker)]


def _units(deployment, host) -> list[str]:
    from ssas_deploy.release_status import app_units

    return app_units(deployment.host_vars[host.name])


def _step(number: int, text: str) -> None:
    err().print(f"[{number}/7] {text}", markup=False, highlight=False)


def _move(source, target, sample: int, started: float) -> int:
    from ssas_deploy.migration import remote
    from ssas_deploy.migration.verify import (
        checks_table,
        compare_answers,
        compare_tables,
        summary,
    )
    from ssas_deploy.profiles.models import Role

    source_web = source.topology.first(Role.web)
    target_web = target.topology.first(Role.web)
    source_stopped = False
    try:
        _step(2, f"the target database on {target_web.name} must be empty")
        remote.manage(target_web, "import_tables", "--check-empty")
        _step(3, "stop the app (gunicorn, Celery) on the source and on the target")
        for host in _app_hosts(source):
            source_stopped = True
            remote.set_units(host, _units(source, host), "stop")
        for host in _app_hosts(target):
            remote.set_units(host, _units(target, host), "stop")
        _step(4, f"copy {source_web.name} -> {target_web.name} (streamed through this machine)")
        copy = remote.stream_copy(source_web, target_web)
        err().print(f"      {copy.summary} {copy.bytes / 1e6:.1f} MB in {copy.seconds:.1f} s",
                    markup=False, highlight=False)
        media_problems = _copy_media(source_web, _app_hosts(target))
        _step(5, "verify every table on both sides (counts, checksums, sequences)")
        checks = compare_tables(_json(remote.manage(source_web, "table_checksums", "--json"),
                                      source_web),
                                _json(remote.manage(target_web, "table_checksums", "--json"),
                                      target_web))
        out().print(checks_table(checks))
        out().print(summary(checks), markup=False, highlight=False)
        for problem in media_problems:
            display_error(problem)
        if not all(c.ok for c in checks) or media_problems:
            display_error("migration failed verification: the target differs from the source "
                          "(the target's app stays stopped)")
            _how_to_restart(source)
            return EXIT_FAILED
        _step(6, "start the target's app and compare the API's answers for "
                 f"{sample} students")
        for host in _app_hosts(target):
            remote.set_units(host, _units(target, host), "start")
        _wait_ready(target)
        differing = compare_answers(
            _json(remote.manage(source_web, "api_sample", "--students", str(sample)),
                  source_web),
            _json(remote.manage(target_web, "api_sample", "--students", str(sample)),
                  target_web))
        if differing:
            display_error(f"the API answers differently on the target for: "
                          f"{', '.join(differing[:10])}")
            _how_to_restart(source)
            return EXIT_FAILED
        out().print("API answers for the sampled students: equal on both sides.")
    except SsasDeployError as exc:
        display_error(str(exc))
        if source_stopped:
            _how_to_restart(source)
        else:
            err().print("The source was not touched.", markup=False, highlight=False)
        return exc.exit_code
    _step(7, "switch")
    lb = target.topology.first(Role.load_balancer)
    out().print(f"Migrated in {time.monotonic() - started:.0f} s. The school now runs at "
                f"https://{lb.address}/ (server name {target.profile.site.server_name}).",
                markup=False, highlight=False)
    out().print("Point the school's DNS name (or the upstream load balancer) at "
                f"{lb.address} now. The old hosts stay stopped and unchanged; to go back, "
                "start them again:", markup=False, highlight=False)
    _restart_commands(source)
    return EXIT_OK


def _copy_media(source_web, target_hosts) -> list[str]:
    """Copy the media directory to every target app host; the differences found (empty
    when every file arrived byte-identical)."""
    from ssas_deploy.context.paths import MEDIA_ROOT
    from ssas_deploy.migration import remote
    from ssas_deploy.migration.verify import compare_files

    expected = remote.file_digests(source_web, MEDIA_ROOT)
    problems = []
    for host in target_hosts:
        copied = remote.media_copy(source_web, host, MEDIA_ROOT)
        problems += [f"{host.name}: {MEDIA_ROOT}/{p}" for p in
                     compare_files(expected, remote.file_digests(host, MEDIA_ROOT))]
        err().print(f"      media files -> {host.name}: {len(expected)} file(s), "
                    f"{copied.bytes / 1e6:.1f} MB", markup=False, highlight=False)
    return problems


def _json(text: str, host) -> dict:
    from ssas_deploy.migration.remote import RemoteError

    try:
        return json.loads(text)
    except ValueError:
        raise RemoteError(f"{host.name}: expected JSON from ssas-manage, got: "
                          f"{text.strip()[-200:]}") from None


def _wait_ready(deployment) -> None:
    from ssas_deploy.migration.remote import RemoteError, run_on
    from ssas_deploy.profiles.models import Role

    for host in deployment.topology.with_role(Role.web):
        url = f"http://{deployment.host_vars[host.name]['gunicorn_bind']}/monitoring/ready/"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            code = run_on(host, f"curl -s -o /dev/null -m 5 -w '%{{http_code}}' {url} || true",
                          30).strip()
            if code == "200":
                break
            if time.monotonic() > deadline:
                raise RemoteError(f"{host.name}: not ready after {READY_TIMEOUT_S} s "
                                  f"(/monitoring/ready/ answers {code or 'nothing'})")
            time.sleep(2)


def _how_to_restart(source) -> None:
    err().print("The source's data was only read. Its app is stopped; start it again with:",
                markup=False, highlight=False)
    _restart_commands(source, err())


def _restart_commands(source, console=None) -> None:
    from ssas_deploy.ssh import ssh_prefix

    console = console or out()
    for host in _app_hosts(source):
        units = " ".join(_units(source, host))
        console.print(f"  {ssh_prefix(host)} systemctl start {units}",
                      markup=False, highlight=False)
