"""What a restore will do, decided before anything changes (pure functions, no I/O).

Times: `--at` is UTC, 'YYYY-MM-DD HH:MM:SS'; pgBackRest gets it with an explicit '+00' so
the database server's own time zone never matters. Backup times are UNIX seconds (pgBackRest
`info`); restic snapshot times are ISO 8601 strings with an offset.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ssas_deploy.errors import EXIT_INVALID_INPUT, SsasDeployError
from ssas_deploy.topology import Host

AT_FORMAT = "%Y-%m-%d %H:%M:%S"


class RestoreRefused(SsasDeployError):
    """The restore will not start; nothing was changed (exit 2)."""

    exit_code = EXIT_INVALID_INPUT


@dataclass(frozen=True)
class StanzaTarget:
    """One database to restore: its stanza, its host and the pgBackRest options chosen.

    `label` is the backup set (None: pgBackRest picks, the newest one that can reach the
    target); `options` the restore options beyond `--stanza` and `--delta`.
    """

    stanza: str
    host: Host
    label: str | None
    options: tuple[str, ...]


@dataclass(frozen=True)
class MediaTarget:
    """One app host's media files: the restic snapshot (id, ISO time) to put back."""

    host: Host
    snapshot: str
    time: str


@dataclass
class RestorePlan:
    """Everything a restore does; `databases_with_data` names the hosts whose cluster
    exists, `replaced` the database hosts that are new machines (`--to-host`)."""

    at: datetime | None
    labels: tuple[str, ...]
    replaced: tuple[str, ...] = ()
    stanzas: list[StanzaTarget] = field(default_factory=list)
    media: list[MediaTarget] = field(default_factory=list)
    databases_with_data: list[str] = field(default_factory=list)

    def point(self) -> str:
        """Which state: 'to the latest archived state', 'as it was at ... UTC' or 'as backup
        LABEL left it'."""
        if self.at:
            return f"as it was at {self.at.strftime(AT_FORMAT)} UTC"
        if self.labels:
            return f"as backup {', '.join(self.labels)} left it"
        return "to the latest archived state"

    def describe(self) -> str:
        """One sentence: what will be restored to which point."""
        point = self.point()
        dbs = ", ".join(f"{s.stanza} on {s.host.name}"
                        + (f" (a new machine at {s.host.address})"
                           if s.host.name in self.replaced else "")
                        for s in self.stanzas)
        media = ", ".join(m.host.name for m in self.media)
        files = (f"the media files of {media} from their snapshot" if media
                 else "no media files (the app hosts keep theirs)")
        return (f"restore the database(s) {dbs} {point} (replacing what they hold now), and "
                f"{files}")


def parse_at(text: str, now: datetime | None = None) -> datetime:
    """'YYYY-MM-DD HH:MM:SS' (UTC) -> an aware datetime; RestoreRefused when malformed or in
    the future (`now` defaults to the clock)."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text.strip()):
        raise RestoreRefused(f"--at '{text}': expected 'YYYY-MM-DD HH:MM:SS' (UTC)")
    try:
        at = datetime.strptime(text.strip(), AT_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise RestoreRefused(f"--at '{text}': {exc}") from None
    now = now or datetime.now(UTC)
    if at > now:
        raise RestoreRefused(f"--at {text} UTC is in the future (now: "
                             f"{now.strftime(AT_FORMAT)} UTC)")
    return at


def target_option(at: datetime) -> str:
    """pgBackRest's `--target` value for `at`, with the zone spelled out ('...+00')."""
    return at.astimezone(UTC).strftime(AT_FORMAT) + "+00"


def stanza_options(backups: list, stanza: str, at: datetime | None,
                   labels: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """(label, restore options) for one stanza, from its BackupRows (backups.BackupRow).

    - no --at, no --backup: the newest backup plus every archived WAL (pgBackRest's default
      recovery, which promotes at the end of the archive);
    - --backup: that set, recovered to its own consistent end (`--type=immediate`);
    - --at: recovery to that time (`--type=time`, `--target-action=promote`); the backup set
      is pgBackRest's choice (the newest that ended before the target).

    Raises RestoreRefused when the stanza has no backup, when no label given belongs to it
    (or several do), or when `at` is before its oldest backup ended.
    """
    own = [b for b in backups if b.stanza == stanza]
    if not own:
        raise RestoreRefused(f"stanza {stanza} has no backup in the repository: nothing to "
                             "restore from (`ssas-deploy backup run` takes one)")
    if labels:
        chosen = [b.label for b in own if b.label in labels]
        if len(chosen) != 1:
            known = ", ".join(b.label for b in own)
            what = "names no backup" if not chosen else "names several backups"
            raise RestoreRefused(f"--backup {' '.join(labels)} {what} of stanza {stanza} "
                                 f"(its backups: {known})")
        return chosen[0], (f"--set={chosen[0]}", "--type=immediate",
                           "--target-action=promote")
    if at is not None:
        oldest = min(own, key=lambda b: b.start)
        if at.timestamp() < oldest.stop:
            ended = datetime.fromtimestamp(oldest.stop, UTC).strftime(AT_FORMAT)
            raise RestoreRefused(f"--at {at.strftime(AT_FORMAT)} UTC is before the oldest "
                                 f"backup of stanza {stanza} ended ({oldest.label}, "
                                 f"{ended} UTC): nothing can be restored that early")
        return None, ("--type=time", f"--target={target_option(at)}",
                      "--target-action=promote")
    return None, ()


def snapshot_time(snapshot: dict) -> datetime:
    """A restic snapshot's `time` ('2026-11-30T14:15:00.123456789Z' or '...+01:00') as an
    aware datetime (digits past microseconds dropped; no offset means UTC)."""
    moment = datetime.fromisoformat(snapshot["time"])
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def choose_snapshot(host: Host, snapshots: list[dict], at: datetime | None) -> MediaTarget:
    """The newest snapshot of `host` (at or before `at` when given); RestoreRefused if none."""
    ordered = sorted(snapshots, key=snapshot_time)
    if at is not None:
        ordered = [s for s in ordered if snapshot_time(s) <= at]
    if not ordered:
        when = f" at or before {at.strftime(AT_FORMAT)} UTC" if at else ""
        raise RestoreRefused(f"{host.name}: no media snapshot{when} in its restic "
                             "repository")
    chosen = ordered[-1]
    return MediaTarget(host, chosen["id"], chosen["time"])
