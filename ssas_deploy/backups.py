"""Run, list and check the backups of a deployment over SSH (the CLI's `backup` verbs).

pgBackRest's commands run on the backup host as its repository owner (`backups run from the
repository host`); restic runs on each app host through the `ssas-restic` wrapper the backup
role installs. Connections use the same paramiko path as `status` (ssas_deploy.ssh).
"""

import json
import logging
import shlex
from dataclasses import dataclass, field

from ssas_deploy.context.backup import PGBACKREST_USER, media_hosts
from ssas_deploy.errors import InvalidInputError, OperationFailedError, Problem
from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import SshError, as_root, connect, run
from ssas_deploy.topology import Host

CONNECT_TIMEOUT_S = 10.0
# One read of a backup's output may wait this long (pgBackRest prints little while it copies).
BACKUP_TIMEOUT_S = 6 * 3600.0
CHECK_TIMEOUT_S = 600.0
RESTIC = "/usr/local/sbin/ssas-restic"
BACKUP_TYPES = ("full", "diff", "incr")


@dataclass
class Outcome:
    """What one command did on one host: `ok`, and its output or error text."""

    host: str
    what: str
    ok: bool
    detail: str = ""


@dataclass
class BackupRow:
    """One pgBackRest backup, as `pgbackrest info --output=json` describes it.

    Times are UNIX seconds; sizes are bytes: `database_size` is the cluster's size,
    `repo_size` what the backup takes in the repository (compressed, encrypted) and
    `repo_delta` what this backup added to it.
    """

    stanza: str
    label: str
    type: str
    start: int
    stop: int
    database_size: int
    repo_size: int
    repo_delta: int
    wal_start: str
    wal_stop: str

    @property
    def duration_s(self) -> int:
        return self.stop - self.start


@dataclass
class Listing:
    backups: list[BackupRow] = field(default_factory=list)
    # stanza -> pgBackRest's status message ("ok", "no valid backups", ...)
    stanzas: dict[str, str] = field(default_factory=dict)
    # host -> restic snapshots [{time, id, paths}] of its media files
    files: dict[str, list[dict]] = field(default_factory=dict)


def backup_host(deployment) -> Host:
    """The deployment's backup host, or InvalidInputError when the profile has none."""
    host = deployment.topology.first(Role.backup)
    if host is None:
        raise InvalidInputError([Problem(None, None, "hosts.backup",
                                         f"profile '{deployment.profile.name}' has no backup "
                                         "host, so there are no backups to run, list or check")])
    return host


def stanzas(deployment) -> list[str]:
    """The stanza names the backup host keeps (context.backup)."""
    return [s["name"] for s in
            deployment.host_vars[backup_host(deployment).name].get("backup_stanzas", [])]


def pgbackrest_command(*args: str) -> str:
    """A pgBackRest command line run as the repository owner."""
    return f"runuser -u {PGBACKREST_USER} -- pgbackrest " + " ".join(shlex.quote(a) for a in args)


def _on(host: Host, command: str, timeout: float) -> tuple[int, str, str]:
    """Run `command` as root on `host`: (status, stdout, stderr).

    Raises OperationFailedError naming the host when it cannot be reached or the connection
    drops.
    """
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    try:
        client = connect(host, CONNECT_TIMEOUT_S)
    except SshError as exc:
        raise OperationFailedError(f"{host.name}: {exc}") from None
    try:
        code, out, err = run(client, as_root(host, command), timeout=timeout)
    except (OSError, EOFError) as exc:
        raise OperationFailedError(f"{host.name}: the connection failed during "
                                   f"`{command[:80]}`: {exc or type(exc).__name__}") from None
    finally:
        client.close()
    return code, out.decode(errors="replace"), err


def _last_lines(text: str, count: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-count:])


def run_backups(deployment, kind: str, files: bool = True) -> list[Outcome]:
    """Take a `kind` (full|diff|incr) backup of every stanza, then media backups.

    Stops at the first host that cannot be reached (OperationFailedError); a failed backup is
    recorded in its Outcome and the others still run.
    """
    if kind not in BACKUP_TYPES:
        raise InvalidInputError([Problem(None, None, "--type",
                                         f"'{kind}' is not one of {', '.join(BACKUP_TYPES)}")])
    repo = backup_host(deployment)
    outcomes = []
    for stanza in stanzas(deployment):
        code, out, err = _on(repo, pgbackrest_command(f"--stanza={stanza}", f"--type={kind}",
                                                      "--log-level-console=warn", "backup"),
                             BACKUP_TIMEOUT_S)
        outcomes.append(Outcome(repo.name, f"pgbackrest {kind} backup of stanza {stanza}",
                                code == 0, _last_lines(err or out)))
    if files:
        for host in _files_clients(deployment):
            # The same command as ssas-restic-backup.service, run directly (a unit waiting
            # to restart after a failed timer run would hold `systemctl start` back).
            paths = " ".join(shlex.quote(p) for p in
                             deployment.host_vars[host.name]["backup_restic_paths"])
            code, out, err = _on(host, f"{RESTIC} backup --quiet --host "
                                       f"{shlex.quote(host.name)} --tag ssas-media {paths}",
                                 BACKUP_TIMEOUT_S)
            outcomes.append(Outcome(host.name, "restic backup of media files", code == 0,
                                    _last_lines(err or out)))
    return outcomes


def _files_clients(deployment) -> list[Host]:
    return [h for h in media_hosts(deployment.topology)
            if deployment.host_vars[h.name].get("backup_is_files_client")]


def list_backups(deployment, files: bool = True) -> Listing:
    """Every backup in the repository (per stanza, oldest first) and the media snapshots."""
    repo = backup_host(deployment)
    code, out, err = _on(repo, pgbackrest_command("--output=json", "info"), CHECK_TIMEOUT_S)
    if code != 0:
        raise OperationFailedError(f"{repo.name}: pgbackrest info failed ({code}): "
                                   f"{_last_lines(err or out)}")
    listing = Listing()
    parse_info(out, listing)
    if files:
        for host in _files_clients(deployment):
            code, out, err = _on(host, f"{RESTIC} snapshots --json --host "
                                       f"{shlex.quote(host.name)}", CHECK_TIMEOUT_S)
            if code != 0:
                raise OperationFailedError(f"{host.name}: restic snapshots failed ({code}): "
                                           f"{_last_lines(err or out)}")
            listing.files[host.name] = [
                {"time": s.get("time"), "id": s.get("short_id"), "paths": s.get("paths")}
                for s in json.loads(out or "[]") or []]
    return listing


def parse_info(text: str, listing: Listing) -> list[str]:
    """Add `pgbackrest info --output=json` (a list of stanzas) to `listing`; the stanza names.

    Raises OperationFailedError when the text is not that JSON.
    """
    try:
        document = json.loads(text)
    except ValueError:
        raise OperationFailedError(f"pgbackrest info printed no JSON: {text[:200]}") from None
    names = []
    for stanza in document:
        name = stanza["name"]
        names.append(name)
        listing.stanzas[name] = stanza.get("status", {}).get("message", "")
        for b in stanza.get("backup", []):
            info, archive = b.get("info", {}), b.get("archive") or {}
            listing.backups.append(BackupRow(
                stanza=name, label=b["label"], type=b["type"],
                start=b["timestamp"]["start"], stop=b["timestamp"]["stop"],
                database_size=info.get("size", 0),
                repo_size=info.get("repository", {}).get("size", 0),
                repo_delta=info.get("repository", {}).get("delta", 0),
                wal_start=archive.get("start") or "", wal_stop=archive.get("stop") or ""))
    return names


def check_backups(deployment) -> list[Outcome]:
    """`pgbackrest check` of every stanza (WAL archiving works end to end) and `restic check`
    of every media repository. Unreachable hosts are failed Outcomes, not exceptions."""
    repo = backup_host(deployment)
    outcomes = []
    for stanza in stanzas(deployment):
        outcomes.append(_checked(repo, f"pgbackrest check of stanza {stanza}",
                                 pgbackrest_command(f"--stanza={stanza}", "check")))
    for host in _files_clients(deployment):
        outcomes.append(_checked(host, "restic check of media files", f"{RESTIC} check"))
    return outcomes


def _checked(host: Host, what: str, command: str) -> Outcome:
    try:
        code, out, err = _on(host, command, CHECK_TIMEOUT_S)
    except OperationFailedError as exc:
        return Outcome(host.name, what, False, str(exc))
    return Outcome(host.name, what, code == 0, "" if code == 0 else _last_lines(err or out))
