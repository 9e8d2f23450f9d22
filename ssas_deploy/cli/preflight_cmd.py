"""`ssas-deploy preflight`: check every host of the inventory against the profile."""

from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import ProfileOption, load_deployment
from ssas_deploy.console import display_warning, out, reporting


def preflight(
    profile: ProfileOption,
    inventory: Annotated[Path, typer.Option(
        "--inventory", "-i", help="hosts.yaml mapping the profile's roles to addresses.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Continue past hardware shortfalls (CPU, RAM, disk) with a warning; "
                        "every other check still fails.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.5, max=120, help="Seconds to wait for each host to answer.")] = 5.0,
) -> None:
    """Reachable, SSH key accepted, passwordless sudo, OS, CPU/RAM/disk, ports, clock.

    Exit 0 when every host meets the profile (warnings allowed), 3 when any host falls short,
    including a host that cannot be reached or refuses the key.
    """
    from ssas_deploy.preflight import print_report, run_preflight

    with reporting():
        deployment = load_deployment(profile, inventory)
    report = run_preflight(deployment, force, timeout=timeout)
    print_report(out(), report)
    for host, check in report.warnings():
        display_warning(f"{host.host}: {check.name}: {check.message}")
    raise typer.Exit(report.exit_code)
