"""`ssas-deploy sandbox up | down | status`: a profile's hosts as local systemd containers."""

from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import ProfileOption
from ssas_deploy.console import display_error, err, out, reporting
from ssas_deploy.errors import EXIT_INVALID_INPUT

app = typer.Typer(help="Try a profile on this machine: its hosts as local systemd containers "
                       "(rootful podman) with sshd, and a ready inventory.",
                  no_args_is_help=True)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", "-d", help="Where the SSH key and hosts.yaml go "
                 "(default: .ssas-sandbox/<profile name>/ in the current directory)."),
]


def _log(message: str) -> None:
    err().print(f"[dim]sandbox:[/dim] {message}")


@app.command("up")
def up(profile: ProfileOption, directory: DirOption = None) -> None:
    """Create (or reuse) one container per host of the profile and write DIR/hosts.yaml."""
    from rich.table import Table

    from ssas_deploy.profiles.loader import load_profile
    from ssas_deploy.sandbox import up as sandbox_up

    with reporting():
        loaded = load_profile(profile)
        sandbox = sandbox_up(loaded, directory, log=_log)
    table = Table("host", "address", "roles", "container", "state")
    for host in sandbox.hosts:
        table.add_row(host.name, host.address, ", ".join(host.roles), host.container, host.state)
    console = out()
    console.print(table)
    inventory = _shown(sandbox.inventory)
    console.print(f"Sandbox '{sandbox.profile}': {len(sandbox.hosts)} host(s) ready in "
                  f"{sandbox.seconds:.1f} s; inventory {inventory}, key {_shown(sandbox.key_file)}")
    console.print("Sandbox hosts share this machine's CPU and RAM: preflight reports the "
                  "profile's hardware as a shortfall where they fall short; --force continues.")
    console.print("Next:")
    console.print(f"  ssas-deploy preflight --profile {profile} --inventory {inventory} --force")
    console.print(f"  ssas-deploy apply --profile {profile} --inventory {inventory}")


@app.command("down")
def down(
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="The profile whose sandbox to remove (name or path).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Remove every sandbox.")] = False,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete what up and apply wrote "
                                        "for it: key, hosts.yaml, secrets vault, known_hosts, "
                                        "last apply/restore records, handover report (and the "
                                        "directory when that empties it).")] = False,
    directory: DirOption = None,
) -> None:
    """Remove a profile's sandbox containers (by label)."""
    from ssas_deploy.sandbox import down as sandbox_down

    if bool(profile) == all_:
        display_error("give --profile P or --all")
        raise typer.Exit(EXIT_INVALID_INPUT)
    with reporting():
        name = _profile_name(profile) if profile else None
        if purge and name and directory is None:
            from ssas_deploy.sandbox import default_directory

            directory = default_directory(name)
        removed, cleaned = sandbox_down(name, purge=purge, directory=directory, log=_log)
    console = out()
    what = f"sandbox '{name}'" if name else "every sandbox"
    console.print(f"Removed {len(removed)} container(s) of {what}"
                  + (f": {', '.join(removed)}" if removed else ""))
    for path in cleaned:
        console.print(f"Purged {_shown(path)}")


@app.command("status")
def status(
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Only this profile's sandbox (name or path).")] = None,
) -> None:
    """List sandbox containers: profile, host, address, roles, state."""
    from rich.table import Table

    from ssas_deploy.sandbox import status as sandbox_status

    with reporting():
        rows = sandbox_status(_profile_name(profile) if profile else None)
    if not rows:
        out().print("No sandbox containers.")
        return
    table = Table("profile", "host", "address", "roles", "state", "container")
    for row in rows:
        table.add_row(row.profile, row.host, row.address, row.roles, row.state, row.container)
    out().print(table)


def _profile_name(ref: str) -> str:
    """A built-in or file profile's name; a bare name of a removed custom profile also works."""
    from ssas_deploy.errors import InvalidInputError
    from ssas_deploy.profiles.loader import load_profile

    try:
        return load_profile(ref).name
    except InvalidInputError:
        if "/" not in ref and not ref.endswith((".yaml", ".yml")):
            return ref
        raise


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
