"""`ssas-deploy plan`: topology, targets, derived settings and files, before any change."""

import json
from typing import Annotated

import typer

from ssas_deploy.cli.options import InventoryOption, ProfileOption, load_deployment
from ssas_deploy.console import out, print_raw, reporting


def plan(
    profile: ProfileOption,
    inventory: InventoryOption = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show how each number was "
                                          "derived.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """What would be deployed where, and why."""
    from ssas_deploy.plan_report import plan_document, print_plan
    from ssas_deploy.rendering import render_deployment

    with reporting():
        deployment = load_deployment(profile, inventory)
        files = render_deployment(deployment)
    if as_json:
        print_raw(json.dumps(plan_document(deployment, files), indent=2))
    else:
        print_plan(out(), deployment, files, explain)
