"""Run one of the app's management commands on a deployment's first web host, for the verbs
that act on the running site (`users`, `data import`).

Exit codes it raises (typer.Exit): 1 the host failed or could not be reached; 2 the command
refused (it exits 2 when it changed nothing: bad input, no such user, bad rows).
"""

from pathlib import Path

import typer

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.cli.release_cmd import _profile_for
from ssas_deploy.console import display_error, reporting
from ssas_deploy.errors import EXIT_FAILED, EXIT_INVALID_INPUT


def manage_on_web_host(profile: Path | None, inventory: Path, command: str, *args: str,
                       stdin: str | bytes | None = None, timeout: float = 300) -> str:
    """`ssas-manage COMMAND ARGS` on the first web host of `inventory` (`stdin` on its
    standard input, never on a command line); its stdout. Errors are displayed, naming the
    host, and end the command with exit 1 (host) or 2 (the app refused)."""
    from ssas_deploy.migration.remote import RemoteError, manage
    from ssas_deploy.profiles.models import Role

    with reporting():
        deployment = load_deployment(_profile_for(profile, inventory), inventory, warn=False)
    web = deployment.topology.first(Role.web)
    try:
        return manage(web, command, *args, timeout=timeout, stdin=stdin)
    except RemoteError as exc:
        display_error(str(exc))
        raise typer.Exit(EXIT_INVALID_INPUT if " exited 2:" in str(exc) else EXIT_FAILED
                         ) from None
