"""`ssas-deploy apply`: preflight, then the site playbook with live progress and a recap."""

from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import ProfileOption, load_deployment
from ssas_deploy.cli.secrets_cmd import VaultPasswordFileOption
from ssas_deploy.console import display_error, display_warning, err, out, reporting
from ssas_deploy.errors import EXIT_FAILED, EXIT_PREFLIGHT


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
    from ssas_deploy.runner.apply import apply_deployment

    with reporting():
        deployment = load_deployment(profile, inventory)
        if not skip_preflight:
            _preflight(deployment, force)
        result = apply_deployment(deployment, inventory, check=check, diff=diff, limit=limit,
                                  tags=tags, wheelhouse=wheelhouse,
                                  vault_password_file=vault_password_file, console=err())
    from ssas_deploy.runner.progress import recap_table

    out().print(recap_table(result.state))
    if result.returncode != 0 or result.state.failures:
        for failure in result.state.failures:
            display_error(f"{failure.host}: task '{failure.task}' failed: {failure.message}")
        if not result.state.failures:
            display_error(f"ansible-playbook exited with {result.returncode}; log: {result.log}")
        raise typer.Exit(EXIT_FAILED)
    verb = "would change" if check else "changed"
    out().print(f"{result.changed} task(s) {verb}.")
    if not check and not limit and not tags:
        out().print(f"SSAS is running: {_site_url(deployment)}")


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
