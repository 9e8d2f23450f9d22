"""`ssas-deploy handover`: the report for the school's IT staff (Markdown and HTML)."""

from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.cli.release_cmd import InventoryRequired, ProfileDefaulted, _profile_for
from ssas_deploy.console import display_warning, out, reporting


def handover(
    inventory: InventoryRequired,
    profile: ProfileDefaulted = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Directory for handover.md and handover.html (default: "
                            "'handover' beside the inventory).")] = None,
    offline: Annotated[bool, typer.Option(
        "--offline", help="Do not ask the backup host for its last backup.")] = False,
) -> None:
    """Write the handover report: site, first accounts, hosts, vault, backups and restore,
    monitoring, the guide's checklists and maintenance calendar. Never shows a secret."""
    from ssas_deploy.handover.live import backup_state
    from ssas_deploy.handover.report import build_report, default_out_dir, write_report

    with reporting():
        profile_ref = _profile_for(profile, inventory)
        deployment = load_deployment(profile_ref, inventory, warn=False)
        backups = backup_state(deployment, offline)
        if not offline and not backups.known:
            display_warning(f"last backup unknown: {backups.unknown}")
        report = build_report(deployment, inventory, profile_ref, backups)
        markdown, html = write_report(report, out_dir or default_out_dir(inventory))
    out().print(f"Wrote {markdown}")
    out().print(f"Wrote {html}")
