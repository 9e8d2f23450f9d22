"""Options shared by several commands, and loading a deployment from them."""

from pathlib import Path
from typing import Annotated

import typer

ProfileOption = Annotated[
    str,
    typer.Option("--profile", "-p", help="Built-in profile name (small, medium, large, "
                 "very-large) or path to a profile YAML."),
]
InventoryOption = Annotated[
    Path | None,
    typer.Option("--inventory", "-i", help="hosts.yaml mapping the profile's roles to "
                 "addresses. Without it hosts get placeholder names (web-1, db-1, ...)."),
]


def load_deployment(profile_ref: str, inventory: Path | None, warn: bool = True,
                    known_hosts: Path | None = None):
    from ssas_deploy.console import display_warning
    from ssas_deploy.context.build import build
    from ssas_deploy.profiles.loader import load_profile_with_warnings

    profile, warnings = load_profile_with_warnings(profile_ref)
    if warn:
        for warning in warnings:
            display_warning(str(warning))
    placements = None
    if inventory is not None:
        from ssas_deploy.inventory import load_inventory

        placements = load_inventory(inventory, profile, known_hosts)
    return build(profile, placements)
