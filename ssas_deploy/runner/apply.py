"""Apply a deployment: secrets, wheelhouse, run dir, site playbook."""

import contextlib
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from ssas_deploy.context.build import Deployment
from ssas_deploy.errors import InvalidInputError, Problem
from ssas_deploy.inventory import known_hosts_for
from ssas_deploy.profiles.models import Profile, Role
from ssas_deploy.runner.host_keys import pin_new_host_keys
from ssas_deploy.runner.interrupts import InterruptGuard, guarded
from ssas_deploy.runner.playbook import RunOptions, RunResult, run_playbook
from ssas_deploy.runner.wheelhouse import ensure_wheelhouse
from ssas_deploy.runner.workspace import (
    ansible_inventory,
    create_workspace_for_inventory,
    remove_workspace,
)
from ssas_deploy.secrets.names import SSAS_SECRETS_NAMES


def last_log_for(inventory: Path) -> Path:
    """`hosts.yaml` -> `hosts.last-apply.log`: ansible-playbook's output of the last apply."""
    return inventory.with_name(f"{inventory.stem}.last-apply.log")


def host_secrets(stored: dict[str, str], *, tls_key: bool = False) -> dict[str, str]:
    """The secrets that travel to the hosts: those the templates and roles consume
    (secrets.names.SSAS_SECRETS_NAMES) and the optional ones that are set (secrets.names.HOST_VARS);
    the imported TLS key only with `tls_key` (a profile with `site.tls: provided`)."""
    from ssas_deploy.secrets.names import HOST_VARS

    wanted = [name for name in HOST_VARS if tls_key or name != "tls_key"]
    return {name: stored[name] for name in (*SSAS_SECRETS_NAMES, *wanted) if name in stored}


def provided_tls_chain(deployment: Deployment, inventory: Path, *, warn: bool = True):
    """The imported chain (`tls.chain.Chain`) for a profile with `site.tls: provided`, checked
    again (expiry, server names) without opening the vault; None for a self-signed profile
    (with a warning when a certificate was imported all the same). `warn`: show the chain's
    warnings (e.g. expiring within 30 days).

    Raises InvalidInputError naming `site.tls` when nothing was imported, or the chain's
    problems (expired since, a server name it does not cover).
    """
    from ssas_deploy.console import display_warning
    from ssas_deploy.tls.provided import chain_path_for, provided_chain

    if deployment.profile.site.tls != "provided":
        if warn and chain_path_for(inventory).is_file():
            display_warning(f"{chain_path_for(inventory)}: a certificate was imported, but "
                            "the profile says site.tls: self-signed, so nginx keeps its "
                            "self-signed one; set site.tls: provided to serve it")
        return None
    chain, warnings = provided_chain(deployment.profile, inventory)
    for warning in warnings if warn else ():
        display_warning(warning)
    return chain


def check_mail_password(profile: Profile, stored: dict[str, str]) -> None:
    """A profile that signs in to its SMTP relay needs the password stored first.

    Raises InvalidInputError naming `mail.username` and the command that stores it.
    """
    if profile.mail.username and "smtp_password" not in stored:
        raise InvalidInputError([Problem(None, None, "mail.username", (
            f"the SMTP relay login '{profile.mail.username}' has no password stored: run "
            "`ssas-deploy secrets set-smtp-password --inventory I` first"))])


def apply_deployment(deployment: Deployment, inventory: Path, *, check: bool = False,
                     diff: bool = False, limit: str | None = None, tags: str | None = None,
                     wheelhouse: Path | None = None, vault_password_file: Path | None = None,
                     console: Console, guard: InterruptGuard | None = None,
                     extra_vars: dict | None = None) -> RunResult:
    """Run the site playbook for `deployment` on the hosts of `inventory` (a hosts.yaml path).

    Secrets come from the inventory's vault (created on first use), the app from the given or
    cached wheelhouse. See `run_with_secrets` for the run itself and signal handling; pass the
    command's `guard` so signals received before the run are handled the same way. The result
    is not judged here: see `RunResult.verdict()`. `extra_vars` are added to every host's
    variables (e.g. `backup_replacing_database` for `restore --to-host`).

    Raises InvalidInputError (vault password, SMTP password or supplied certificate missing:
    see `provided_tls_chain`), OperationFailedError (wheelhouse, Ansible
    missing), and RunInterrupted when `guard` receives a signal before the run dir exists.
    """
    from ssas_deploy.secrets import deployment_secrets, vault_path_for
    from ssas_deploy.tls.provided import check_stored_key, tls_host_vars

    chain = provided_tls_chain(deployment, inventory)
    stored = deployment_secrets(inventory, vault_password_file)
    check_mail_password(deployment.profile, stored)
    tls_vars = {}
    if chain is not None:
        check_stored_key(chain, vault_path_for(inventory), stored.get("tls_key"))
        tls_vars = tls_host_vars(deployment, chain)
    secrets = host_secrets(stored, tls_key=chain is not None)
    needs_app = any(h.has(Role.web) or h.has(Role.celery_worker)
                    for h in deployment.topology.hosts)
    extra = dict(extra_vars or {})
    if needs_app:
        extra["ssas_app_wheelhouse_dir"] = str(ensure_wheelhouse(wheelhouse))
    document = ansible_inventory(deployment, extra, _migration_host(deployment), tls_vars)
    options = RunOptions(limit=limit, tags=tags, check=check, diff=diff)
    return run_with_secrets(document, secrets, options, console=console,
                            known_hosts=known_hosts_for(inventory),
                            saved_log=last_log_for(inventory), guard=guard)


def run_with_secrets(document: dict, secrets: dict[str, str], options: RunOptions, *,
                     console: Console, known_hosts: Path, saved_log: Path,
                     guard: InterruptGuard | None = None) -> RunResult:
    """Run `options.playbook` on the inventory `document` with `secrets` as `ssas_secrets`.

    The private run dir (inventory, vault-encrypted secrets, events, Ansible's local temp
    files) is removed on every exit path: success, failure, exception, SIGINT and SIGTERM.
    Signals are only recorded from before the dir is created until it is gone, and a recorded
    one stops ansible-playbook (see `run_playbook`). ansible-playbook's output is kept as
    `saved_log` (mode 0600); the result's `log` names it.

    Raises OperationFailedError when Ansible is missing; OSError when the run dir cannot be
    written.
    """
    with guarded(guard) as guard:
        pin_new_host_keys(document, known_hosts)
        workspace = create_workspace_for_inventory(document, secrets)
        try:
            result = run_playbook(workspace, options, console, known_hosts, guard)
        finally:
            try:
                _close_ssh_masters(workspace.ssh_control_dir)
                if workspace.output.exists():
                    _copy_private(workspace.output, saved_log)
            finally:
                remove_workspace(workspace)
    return replace(result, log=saved_log)


def _copy_private(source: Path, target: Path) -> None:
    """Copy `source` to `target`, which is mode 0600 before any byte is written."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as handle, source.open("rb") as data:
        shutil.copyfileobj(data, handle)


def _close_ssh_masters(control_dir: Path) -> None:
    """Ask the run's SSH ControlPersist masters to exit: their sockets go with the run dir."""
    if not control_dir.is_dir():
        return
    for socket in control_dir.iterdir():
        if not socket.is_socket():
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["ssh", "-S", str(socket), "-O", "exit", "ssas-run"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=5, check=False)


def _migration_host(deployment: Deployment) -> str | None:
    """Migrations run once per deploy, on the first web host (or worker on a web-less setup)."""
    first = deployment.topology.first(Role.web) or deployment.topology.first(Role.celery_worker)
    return first.name if first else None
