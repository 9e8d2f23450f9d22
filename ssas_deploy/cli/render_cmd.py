"""`ssas-deploy render`: every config file of every host, written to a directory."""

import json
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import InventoryOption, ProfileOption, load_deployment
from ssas_deploy.console import print_raw, reporting


def render(
    profile: ProfileOption,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into.")],
    inventory: InventoryOption = None,
) -> None:
    """Write DIR/<host>/<path on host> for every file, plus DIR/manifest.json.

    Secrets are masked: the real values are only ever written on the hosts. Files of the
    whole deployment that no host gets yet (the Prometheus alert rules) go to
    DIR/_deployment/.
    """
    from ssas_deploy import monitoring
    from ssas_deploy.rendering import manifest, render_deployment, write_tree

    with reporting():
        deployment = load_deployment(profile, inventory)
        files = render_deployment(deployment)
        write_tree(files, out_dir)
        rules = out_dir / monitoring.RENDER_PATH
        rules.parent.mkdir(parents=True, exist_ok=True)
        rules.write_text(monitoring.render_alert_rules(deployment), encoding="utf-8")
        deployment_files = [{"path": monitoring.RENDER_PATH, "template": monitoring.TEMPLATE,
                             "installed_by": None, "install_path": monitoring.INSTALL_PATH}]
        (out_dir / "manifest.json").write_text(
            json.dumps({"profile": deployment.profile.name, "files": manifest(files),
                        "deployment_files": deployment_files}, indent=2) + "\n",
            encoding="utf-8",
        )
        hosts = len(deployment.host_vars)
        print_raw(f"Rendered {len(files)} files for {hosts} host(s) into {out_dir}")


def hostvars(
    profile: ProfileOption,
    host: Annotated[str, typer.Option("--host", help="Host name (e.g. web-1).")],
    inventory: InventoryOption = None,
) -> None:
    """Print one host's template variables as JSON (what the Ansible roles receive)."""
    with reporting():
        deployment = load_deployment(profile, inventory, warn=False)
        if host not in deployment.host_vars:
            from ssas_deploy.errors import InvalidInputError, Problem

            known = ", ".join(deployment.host_vars)
            raise InvalidInputError([Problem(None, None, "host", f"no host '{host}'; "
                                                                 f"hosts: {known}")])
        print_raw(json.dumps(deployment.host_vars[host], indent=2))
