"""Apply a deployment: secrets, wheelhouse, run dir, site playbook."""

import shutil
from pathlib import Path

from rich.console import Console

from ssas_deploy.context.build import Deployment
from ssas_deploy.profiles.models import Role
from ssas_deploy.rendering import SECRET_NAMES
from ssas_deploy.runner.playbook import RunOptions, RunResult, run_playbook
from ssas_deploy.runner.wheelhouse import ensure_wheelhouse
from ssas_deploy.runner.workspace import create_workspace


def known_hosts_for(inventory: Path) -> Path:
    return inventory.with_name(f"{inventory.stem}.known_hosts")


def apply_deployment(deployment: Deployment, inventory: Path, *, check: bool = False,
                     diff: bool = False, limit: str | None = None, tags: str | None = None,
                     wheelhouse: Path | None = None, vault_password_file: Path | None = None,
                     console: Console) -> RunResult:
    from ssas_deploy.secrets import deployment_secrets

    stored = deployment_secrets(inventory, vault_password_file)
    # Only the secrets the templates and roles consume travel to the hosts.
    secrets = {name: stored[name] for name in SECRET_NAMES}
    needs_app = any(h.has(Role.web) or h.has(Role.celery_worker)
                    for h in deployment.topology.hosts)
    extra = {}
    if needs_app:
        extra["ssas_app_wheelhouse_dir"] = str(ensure_wheelhouse(wheelhouse))
    workspace = create_workspace(deployment, secrets, extra, migrate_on=_migration_host(
        deployment))
    try:
        options = RunOptions(limit=limit, tags=tags, check=check, diff=diff)
        return run_playbook(workspace, options, console, known_hosts_for(inventory))
    finally:
        # The run dir holds the secrets vars file: never leave it behind.
        (workspace.secrets_vars).unlink(missing_ok=True)
        keep = workspace.log.with_suffix(".out")
        saved = inventory.with_name(f"{inventory.stem}.last-apply.log")
        if keep.exists():
            shutil.copyfile(keep, saved)
            saved.chmod(0o600)
        shutil.rmtree(workspace.root, ignore_errors=True)


def _migration_host(deployment: Deployment) -> str | None:
    """Migrations run once per deploy, on the first web host (or worker on a web-less setup)."""
    first = deployment.topology.first(Role.web) or deployment.topology.first(Role.celery_worker)
    return first.name if first else None
