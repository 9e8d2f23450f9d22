"""`ssas-deploy plan`: topology, targets, derived settings and files, before any change.

With an inventory, plan also reads the live hosts and shows, per host, which files `apply`
would change and which services would reload or restart (`--offline` skips that).
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import InventoryOption, ProfileOption, load_deployment
from ssas_deploy.cli.secrets_cmd import VaultPasswordFileOption
from ssas_deploy.console import out, print_raw, reporting
from ssas_deploy.errors import EXIT_FAILED


def plan(
    profile: ProfileOption,
    inventory: InventoryOption = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show how each number was "
                                          "derived.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="With --inventory: do not connect "
                                          "to the hosts.")] = False,
    vault_password_file: VaultPasswordFileOption = None,
) -> None:
    """What would be deployed where, and why; with an inventory, what would change live."""
    from ssas_deploy.plan_report import plan_document, print_drift, print_plan
    from ssas_deploy.rendering import render_deployment

    drift = None
    with reporting():
        deployment = load_deployment(profile, inventory)
        if inventory is not None:
            from ssas_deploy.runner.apply import provided_tls_chain

            provided_tls_chain(deployment, inventory)
        files = render_deployment(deployment)
        if inventory is not None and not offline:
            drift = _live_drift(deployment, inventory, vault_password_file)
    if as_json:
        print_raw(json.dumps(plan_document(deployment, files, drift), indent=2))
    else:
        console = out()
        print_plan(console, deployment, files, explain)
        if drift is not None:
            print_drift(console, drift)
    if drift is not None and any(h.error for h in drift):
        raise typer.Exit(EXIT_FAILED)


def _live_drift(deployment, inventory: Path, vault_password_file: Path | None):
    """Secret files are compared only when the vault can be opened without asking."""
    import os

    from ssas_deploy.drift import live_drift
    from ssas_deploy.rendering import SECRET_NAMES, render_deployment
    from ssas_deploy.secrets import ENV_PASSWORD, ENV_PASSWORD_FILE, SecretStore

    store = SecretStore(inventory, password_file=vault_password_file)
    can_open = store.exists() and (vault_password_file or os.environ.get(ENV_PASSWORD)
                                   or os.environ.get(ENV_PASSWORD_FILE))
    secrets = None
    if can_open:
        records = store.records()
        if all(name in records for name in SECRET_NAMES):
            secrets = {name: records[name].value for name in SECRET_NAMES}
    files = render_deployment(deployment, secrets)
    return live_drift(deployment, files, secrets_known=secrets is not None)
