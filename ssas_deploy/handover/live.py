"""The last successful backups, read live from the backup host like `backup list` does.

Never raises for an unreachable host or an unreadable answer: the report then says
"unknown (reason)" instead of failing.
"""

import re
from collections.abc import Callable
from datetime import datetime

from ssas_deploy.errors import SsasDeployError
from ssas_deploy.handover.facts import BackupState, utc
from ssas_deploy.profiles.models import Role

OFFLINE_REASON = "--offline: the backup host was not asked"


def backup_state(deployment, offline: bool, lister: Callable | None = None) -> BackupState:
    """The BackupState of `deployment`.

    `lister(deployment)` returns a `backups.Listing` (default: `backups.list_backups`, over
    SSH). Offline, without a backup host, or when listing fails, the state is unknown with
    the reason.
    """
    if deployment.topology.first(Role.backup) is None:
        return BackupState(unknown="the profile has no backup host")
    if offline:
        return BackupState(unknown=OFFLINE_REASON)
    if lister is None:
        from ssas_deploy.backups import list_backups as lister
    try:
        listing = lister(deployment)
    except (SsasDeployError, OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        return BackupState(unknown=_one_line(str(exc) or type(exc).__name__))
    return summarize(listing)


def summarize(listing) -> BackupState:
    """A BackupState from a `backups.Listing`: counts and the newest of each kind."""
    newest = max(listing.backups, key=lambda b: b.stop, default=None)
    last_database = (f"{utc(newest.stop)} ({newest.type} backup {newest.label}, stanza "
                     f"{newest.stanza})" if newest else None)
    snapshots = [(_restic_epoch(s.get("time") or ""), s.get("time") or "", host)
                 for host, items in listing.files.items() for s in items]
    last_files = None
    if snapshots:
        epoch, text, host = max(snapshots)
        last_files = f"{utc(epoch) if epoch else text or 'unknown time'} (media files of {host})"
    return BackupState(database_count=len(listing.backups),
                       files_count=len(snapshots),
                       last_database=last_database, last_files=last_files)


def _restic_epoch(text: str) -> float:
    """restic's RFC 3339 time ('2026-11-29T02:00:03.123456789+01:00') -> UNIX seconds;
    0.0 when it cannot be read."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
