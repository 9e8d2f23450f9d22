"""`ssas-deploy backup run | list | check`: the deployment's backups on its backup host."""

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.cli.release_cmd import InventoryRequired, ProfileDefaulted, _profile_for
from ssas_deploy.console import display_error, out, print_raw, reporting
from ssas_deploy.errors import EXIT_FAILED

app = typer.Typer(help="Run, list and check the backups (pgBackRest and restic on the backup "
                       "host).", no_args_is_help=True)

TypeOption = Annotated[str, typer.Option(
    "--type", "-t", help="pgBackRest backup type: full, diff (changes since the last full) or "
                         "incr (since the last backup of any type).")]
NoFilesOption = Annotated[bool, typer.Option(
    "--no-files", help="Only the databases, not the media files (restic).")]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]


def _deployment(profile, inventory):
    return load_deployment(_profile_for(profile, inventory), inventory, warn=False)


@app.command("run")
def run(inventory: InventoryRequired, profile: ProfileDefaulted = None,
        kind: TypeOption = "full", no_files: NoFilesOption = False) -> None:
    """Take a backup of every database (one pgBackRest stanza each) and of the media files now.

    Exit 1 naming the host when a backup fails or a host cannot be reached.
    """
    from ssas_deploy.backups import run_backups

    with reporting():
        deployment = _deployment(profile, inventory)
        outcomes = run_backups(deployment, kind, files=not no_files)
    _report(outcomes, "backed up")


@app.command("check")
def check(inventory: InventoryRequired, profile: ProfileDefaulted = None) -> None:
    """`pgbackrest check` of every stanza (WAL archiving works) and `restic check` of every
    media repository. Exit 1 naming each host that fails."""
    from ssas_deploy.backups import check_backups

    with reporting():
        deployment = _deployment(profile, inventory)
        outcomes = check_backups(deployment)
    _report(outcomes, "ok")


def _report(outcomes, word: str) -> None:
    failed = [o for o in outcomes if not o.ok]
    for o in outcomes:
        if o.ok:
            out().print(f"{o.host}: {o.what}: {word}")
    for o in failed:
        display_error(f"{o.host}: {o.what} failed" + (f":\n{o.detail}" if o.detail else ""))
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("list")
def list_(inventory: InventoryRequired, profile: ProfileDefaulted = None,
          as_json: JsonOption = False) -> None:
    """Every database backup in the repository (stanza, type, label, start, duration, sizes,
    WAL range) and the media snapshots of each app host."""
    from ssas_deploy.backups import list_backups

    with reporting():
        deployment = _deployment(profile, inventory)
        listing = list_backups(deployment)
    if as_json:
        print_raw(json.dumps({
            "stanzas": listing.stanzas,
            "backups": [{**asdict(b), "duration_s": b.duration_s} for b in listing.backups],
            "files": listing.files,
        }, indent=1))
        return
    _print_listing(listing)


def _print_listing(listing) -> None:
    from rich.table import Table

    table = Table("stanza", "type", "label", "start (UTC)", "duration", "database", "repo",
                  "WAL start - stop", title="Database backups (pgBackRest)")
    for b in listing.backups:
        table.add_row(b.stanza, b.type, b.label, _time(b.start), f"{b.duration_s} s",
                      human_bytes(b.database_size),
                      f"{human_bytes(b.repo_size)} (+{human_bytes(b.repo_delta)})",
                      f"{b.wal_start} - {b.wal_stop}")
    out().print(table)
    for stanza, status in listing.stanzas.items():
        if status != "ok":
            out().print(f"stanza {stanza}: {status}")
    if listing.files:
        files = Table("host", "snapshots", "latest (UTC)", "id", title="Media files (restic)")
        for host, snapshots in listing.files.items():
            latest = snapshots[-1] if snapshots else {}
            files.add_row(host, str(len(snapshots)), (latest.get("time") or "-")[:19],
                          latest.get("id") or "-")
        out().print(files)


def _time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def human_bytes(size: int) -> str:
    """1536 -> '1.5 KiB' (binary units)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
