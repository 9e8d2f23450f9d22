"""The commands a restore runs on the hosts, as root over the CLI's SSH (migration.remote).

Every function raises RemoteError (an OperationFailedError) naming the host and command when
the host cannot be reached or the command fails; outputs are returned parsed.
"""

import json
import shlex
import time

from ssas_deploy.backups import Listing, parse_info, pgbackrest_command
from ssas_deploy.context.backup import PG_DATA
from ssas_deploy.context.paths import DATA_DIR, MEDIA_ROOT, POSTGRES_VERSION
from ssas_deploy.migration import remote
from ssas_deploy.migration.remote import RemoteError
from ssas_deploy.release_status import app_units
from ssas_deploy.restore.plan import MediaTarget, StanzaTarget
from ssas_deploy.topology import Host

RESTIC = "/usr/local/sbin/ssas-restic"
POSTGRES_UNIT = f"postgresql@{POSTGRES_VERSION}-main.service"
PGBOUNCER_UNIT = "pgbouncer.service"
BEAT_UNIT = "ssas-celery-beat.service"
PG_LOG = f"/var/log/postgresql/postgresql-{POSTGRES_VERSION}-main.log"
MEDIA_STAGE = f"{DATA_DIR}/.media-restore"
MEDIA_OLD = f"{DATA_DIR}/.media-before-restore"
# One pgBackRest restore or a recovery may take hours on a big school.
LONG_S = 6 * 3600.0


def units_of_app(host_vars: dict) -> list[str]:
    """gunicorn, every Celery worker group and (on its one host) Celery beat."""
    return app_units(host_vars) + ([BEAT_UNIT] if host_vars.get("celery_beat_enabled") else [])


def units_of_pooler(host_vars: dict) -> list[str]:
    """PgBouncer where the host runs it, else nothing."""
    return [PGBOUNCER_UNIT] if "pgbouncer_port" in host_vars else []


def probe(host: Host, database: bool) -> bool:
    """Reach `host`; for a database host, whether its cluster directory holds a cluster
    (PG_VERSION present). False for other hosts."""
    if not database:
        remote.run_on(host, "true", 60)
        return False
    answer = remote.run_on(host, f"if [ -f {PG_DATA}/PG_VERSION ]; then echo data; "
                                 "else echo empty; fi", 60)
    return answer.strip() == "data"


def backups(repo: Host) -> Listing:
    """`pgbackrest info` of every stanza on the backup host, parsed (backups.Listing)."""
    listing = Listing()
    parse_info(remote.run_on(repo, pgbackrest_command("--output=json", "info"), 600), listing)
    return listing


def media_snapshots(host: Host) -> list[dict]:
    """`host`'s restic snapshots: [{"id": full id, "time": ISO 8601}], oldest first."""
    text = remote.run_on(host, f"{RESTIC} snapshots --json --host {shlex.quote(host.name)}",
                         600)
    try:
        found = json.loads(text or "[]") or []
    except ValueError:
        raise RemoteError(f"{host.name}: restic snapshots printed no JSON: "
                          f"{text.strip()[:200]}") from None
    return [{"id": s["id"], "time": s["time"]} for s in found]


def set_units(host: Host, units: list[str], action: str) -> None:
    """`systemctl start|stop UNITS` on `host` (nothing when `units` is empty)."""
    remote.set_units(host, units, action)


def restore_command(target: StanzaTarget) -> str:
    """The shell that restores `target`'s cluster in place (PostgreSQL stopped): the data
    directory is (re)created if it is gone, then pgBackRest's delta restore as postgres."""
    args = [f"--stanza={target.stanza}", "--delta", *target.options,
            "--log-level-console=warn", "restore"]
    return (f"install -d -o postgres -g postgres -m 0700 {PG_DATA} && "
            f"cd / && runuser -u postgres -- pgbackrest {shlex.join(args)}")


def restore_database(target: StanzaTarget) -> None:
    """Run restore_command(target) on its host."""
    remote.run_on(target.host, restore_command(target), LONG_S)


def archive_now(host: Host, repo: Host, stanza: str) -> None:
    """Make every moment up to now reachable by a restore: commit a transaction on `host`
    (recovery_target_time stops only at commit records, so an idle database would end its
    recovery before a recent target), then `pgbackrest check` from `repo`, which switches
    the WAL segment and waits until it is archived. Raises RemoteError (e.g. PostgreSQL down).
    """
    remote.run_on(host, "runuser -u postgres -- psql -qAtc 'select txid_current()' >/dev/null",
                  120)
    check_stanza(repo, stanza)


def start_database(host: Host) -> None:
    """Start PostgreSQL (after clearing systemd's start limit, which earlier failed starts
    may have reached); on failure the error carries the end of its log (why recovery
    stopped, e.g. a target past the archived WAL)."""
    try:
        remote.run_on(host, f"systemctl reset-failed {POSTGRES_UNIT}; "
                            f"systemctl start {POSTGRES_UNIT}", LONG_S)
    except RemoteError as exc:
        tail = remote.run_on(host, f"tail -n 5 {PG_LOG} 2>/dev/null || true", 60).strip()
        raise RemoteError(f"{exc}" + (f"\nlast lines of {PG_LOG}:\n{tail}" if tail else "")
                          ) from None


def wait_promoted(host: Host, timeout: float = LONG_S, poll_s: float = 2.0) -> float:
    """Wait until PostgreSQL on `host` answers and has left recovery
    (`pg_is_in_recovery()` false); the seconds waited.

    Raises RemoteError when the server stops meanwhile (e.g. the WAL ended before the
    recovery target: the message carries the end of its log) or after `timeout` seconds.
    """
    started = time.monotonic()
    query = (f"systemctl is-active --quiet {POSTGRES_UNIT} || {{ echo down; exit 0; }}; "
             "runuser -u postgres -- psql -XAtq -c 'select pg_is_in_recovery()' "
             "2>/dev/null || true")
    while True:
        answer = remote.run_on(host, query, 120).strip()
        if answer == "f":
            return time.monotonic() - started
        if answer == "down":
            tail = remote.run_on(host, f"tail -n 5 {PG_LOG} 2>/dev/null || true", 60).strip()
            raise RemoteError(f"{host.name}: PostgreSQL stopped during recovery"
                              + (f"; last lines of {PG_LOG}:\n{tail}" if tail else ""))
        if time.monotonic() - started > timeout:
            raise RemoteError(f"{host.name}: PostgreSQL still in recovery after "
                              f"{timeout:.0f} s (answer: {answer or 'none'})")
        time.sleep(poll_s)


def media_restore_command(target: MediaTarget) -> str:
    """Shell that puts `target`'s snapshot of MEDIA_ROOT in place: restored beside it (same
    file system, owners and modes from the snapshot), then swapped in by rename, so the
    directory ends up exactly the snapshot's (files added since are gone)."""
    stage, old = shlex.quote(MEDIA_STAGE), shlex.quote(MEDIA_OLD)
    restored = shlex.quote(f"{MEDIA_STAGE}{MEDIA_ROOT}")
    return (f"set -e; rm -rf {stage} {old}; mkdir -m 0700 {stage}; "
            f"{RESTIC} restore {shlex.quote(target.snapshot)} --target {stage} --quiet; "
            f"mkdir -p {restored}; "
            f"if [ -e {MEDIA_ROOT} ]; then mv {MEDIA_ROOT} {old}; fi; "
            f"mv {restored} {MEDIA_ROOT}; rm -rf {stage} {old}")


def restore_media(target: MediaTarget) -> None:
    """Run media_restore_command(target) on its host."""
    remote.run_on(target.host, media_restore_command(target), LONG_S)


def manage(host: Host, *args: str) -> str:
    """`ssas-manage ARGS` in the app's environment on `host`; its stdout."""
    return remote.manage(host, *args, timeout=LONG_S)


def http_status(host: Host, url: str) -> str:
    """The HTTP status `curl` on `host` gets for `url` ('000' or '' when nothing answers)."""
    return remote.run_on(host, f"curl -sk -o /dev/null -m 5 -w '%{{http_code}}' "
                               f"{shlex.quote(url)} || true", 30).strip()


def check_stanza(repo: Host, stanza: str) -> None:
    """`pgbackrest check` of `stanza` from the backup host: WAL archiving works (on the
    timeline the restore started)."""
    remote.run_on(repo, pgbackrest_command(f"--stanza={stanza}", "check"), 600)
