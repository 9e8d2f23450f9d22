"""The restore's steps: `prepare` reads and decides (nothing changes), `execute` restores.

`prepare` raises RestoreRefused (exit 2) for every reason not to start; `execute` raises
StepFailed (exit 1) naming the step and host; `way_back` is the list of commands that bring
the deployment up again by hand after a StepFailed.
"""

import json
import shlex
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ssas_deploy.backups import backup_host
from ssas_deploy.context.backup import media_hosts
from ssas_deploy.errors import OperationFailedError
from ssas_deploy.profiles.models import Role
from ssas_deploy.restore import hosts
from ssas_deploy.restore.plan import (
    RestorePlan,
    RestoreRefused,
    StanzaTarget,
    choose_snapshot,
    parse_at,
    stanza_options,
)
from ssas_deploy.ssh import ssh_prefix
from ssas_deploy.topology import Host

READY_TIMEOUT_S = 300.0


class StepFailed(OperationFailedError):
    """A step failed after the restore began; `step` and `host` say where, `app_running`
    whether the app had been started again already."""

    def __init__(self, step: str, host: str, message: str, app_running: bool = False):
        self.step, self.host, self.app_running = step, host, app_running
        super().__init__(f"restore failed at '{step}' on {host}: {message}")


@dataclass(frozen=True)
class ReplacementRuns:
    """The two applies of `restore --to-host`; each raises OperationFailedError on failure.

    `provision`: the site playbook limited to the new database hosts and the backup host
    (`backup_replacing_database`); `reconfigure`: the full site playbook.
    """

    provision: Callable[[], None]
    reconfigure: Callable[[], None]


@dataclass
class Outcome:
    """What `execute` measured: seconds per step (in order) and the restored tables
    (`table_checksums --json` of the first web host)."""

    timings: list[tuple[str, float]] = field(default_factory=list)
    checksums: dict = field(default_factory=dict)


def _app_hosts(deployment) -> list[Host]:
    return [h for h in deployment.topology.hosts if h.has(Role.web) or h.has(Role.celery_worker)]


def _pooler_hosts(deployment) -> list[Host]:
    return [h for h in deployment.topology.hosts
            if hosts.units_of_pooler(deployment.host_vars[h.name])]


def _media_clients(deployment) -> list[Host]:
    return [h for h in media_hosts(deployment.topology)
            if deployment.host_vars[h.name].get("backup_is_files_client")]


def stanza_hosts(deployment) -> list[tuple[str, Host]]:
    """(stanza, database host) for every stanza the backup host keeps: the same list
    `backup run` backs up (the primary's `ssas` and each shard's `ssas-shard-<n>`)."""
    repo = backup_host(deployment)
    return [(s["name"], deployment.topology.by_name(s["host"]))
            for s in deployment.host_vars[repo.name].get("backup_stanzas", [])]


def prepare(deployment, at_text: str | None, labels: tuple[str, ...],
            now=None, replaced: tuple[str, ...] = ()) -> RestorePlan:
    """Reach every host, read the backups and media snapshots, choose what to restore.

    `replaced` names database hosts that are new machines (`restore --to-host`): to the
    latest state, only their own media files are restored (the other app hosts keep theirs,
    which are newer than any snapshot); to a moment or a backup, every host's are, as usual.

    Raises RestoreRefused (nothing changed) when: the profile has no backed-up PostgreSQL
    database, `--at` is malformed, in the future or before the oldest backup ended, `--at`
    and `--backup` are both given, a host cannot be reached or read, a stanza has no backup,
    `--backup` names no backup of a stanza, or an app host has no media snapshot to use.
    """
    repo = backup_host(deployment)
    if at_text and labels:
        raise RestoreRefused("--at and --backup exclude each other: --backup restores a "
                             "backup as it ended, --at a moment (from the backup before it)")
    at = parse_at(at_text, now) if at_text else None
    databases = stanza_hosts(deployment)
    if not databases:
        raise RestoreRefused(f"profile '{deployment.profile.name}' has no PostgreSQL "
                             "database with backups (engine "
                             f"{deployment.profile.database.engine}): nothing to restore")
    database_names = {h.name for _, h in databases}
    involved = {h.name: h for h in [repo, *(h for _, h in databases), *_app_hosts(deployment),
                                    *deployment.topology.with_role(Role.load_balancer)]}
    if replaced:  # its full apply touches every host: each must answer before anything
        involved = {h.name: h for h in deployment.topology.hosts}
    holding = _probe_all(list(involved.values()), database_names)
    try:
        listing = hosts.backups(repo)
        plan = RestorePlan(at=at, labels=labels, replaced=replaced,
                           databases_with_data=sorted(n for n, full in holding.items() if full))
        for stanza, host in databases:
            label, options = stanza_options(listing.backups, stanza, at, labels)
            plan.stanzas.append(StanzaTarget(stanza, host, label, options))
        for host in _media_clients(deployment):
            if replaced and at is None and not labels and host.name not in replaced:
                continue
            plan.media.append(choose_snapshot(host, hosts.media_snapshots(host), at))
    except hosts.RemoteError as exc:
        raise RestoreRefused(f"{exc} (nothing was changed)") from None
    return plan


def _probe_all(targets: list[Host], databases: set[str]) -> dict[str, bool]:
    """host -> cluster present (database hosts; False elsewhere); RestoreRefused naming every
    host that could not be reached."""
    def one(host):
        try:
            return host.name, hosts.probe(host, host.name in databases), None
        except hosts.RemoteError as exc:
            return host.name, False, str(exc)

    with ThreadPoolExecutor(max_workers=max(1, min(len(targets), 16))) as pool:
        answers = list(pool.map(one, targets))
    failed = [error for _, _, error in answers if error]
    if failed:
        raise RestoreRefused("cannot reach every host, nothing was changed:\n  "
                             + "\n  ".join(failed))
    return {name: full for name, full, _ in answers}


def execute(deployment, plan: RestorePlan,
            progress: Callable[[str], None] = lambda line: None,
            replacement: "ReplacementRuns | None" = None) -> Outcome:
    """Stop the app, restore every database and the media files, check, start, verify.

    With `replacement` (`restore --to-host`): its `provision` runs first (the new database
    hosts set up from bare), the newest WAL is not archived from them (the old hosts are
    gone), and after the media files the app is started and its `reconfigure` runs (a full
    apply: every host pointed at the new machines) before the checks.

    Steps: archive the newest WAL per stanza (a commit, then `pgbackrest check`; skipped
    when PostgreSQL cannot, e.g. down) -> stop app units (gunicorn, Celery, beat) -> stop
    PgBouncer -> stop PostgreSQL ->
    pgBackRest delta restore per stanza -> start PostgreSQL, wait until promoted -> start
    PgBouncer -> restic media restore per app host -> `ssas-manage check`, `migrate --check`,
    `table_checksums` -> start the app -> /monitoring/ready/ on each web server and through
    each load balancer -> `pgbackrest check` per stanza. Raises StepFailed at the first
    failure.
    """
    outcome = Outcome()
    web = deployment.topology.first(Role.web)
    apps = _app_hosts(deployment)
    app_running = False

    def step(name: str, host: Host, action: Callable[[], object]) -> object:
        progress(f"{name} on {host.name}")
        started = time.monotonic()
        try:
            result = action()
        except OperationFailedError as exc:
            raise StepFailed(name, host.name, str(exc), app_running) from None
        outcome.timings.append((f"{name} ({host.name})", time.monotonic() - started))
        return result

    hv = deployment.host_vars
    repo = backup_host(deployment)

    def start_app() -> None:
        for host in apps:
            step("start the app", host, lambda h=host: hosts.set_units(
                h, hosts.units_of_app(hv[h.name]), "start"))

    if replacement is not None:
        first = plan.stanzas[0].host
        step("set up the replacement database host(s) from bare (apply --limit)", first,
             replacement.provision)
    for target in plan.stanzas:
        if target.host.name in plan.replaced:
            progress(f"{target.stanza}: {target.host.name} is a new machine: restoring from "
                     "the WAL already archived")
            continue
        # Best effort: in a disaster PostgreSQL is down and the archive is what it is.
        started = time.monotonic()
        progress(f"archive the newest WAL of {target.stanza} on {target.host.name}")
        try:
            hosts.archive_now(target.host, repo, target.stanza)
            outcome.timings.append((f"archive the newest WAL of {target.stanza} "
                                    f"({target.host.name})", time.monotonic() - started))
        except OperationFailedError:
            progress(f"{target.stanza}: PostgreSQL on {target.host.name} cannot archive now "
                     "(down?): restoring from the WAL already archived")
    for host in apps:
        step("stop the app", host, lambda h=host: hosts.set_units(
            h, hosts.units_of_app(hv[h.name]), "stop"))
    for host in _pooler_hosts(deployment):
        step("stop PgBouncer", host, lambda h=host: hosts.set_units(
            h, hosts.units_of_pooler(hv[h.name]), "stop"))
    for target in plan.stanzas:
        step("stop PostgreSQL", target.host, lambda h=target.host: hosts.set_units(
            h, [hosts.POSTGRES_UNIT], "stop"))
    for target in plan.stanzas:
        step(f"pgbackrest restore of {target.stanza}", target.host,
             lambda t=target: hosts.restore_database(t))
    for target in plan.stanzas:
        step("start PostgreSQL", target.host, lambda h=target.host: hosts.start_database(h))
        step("wait until PostgreSQL has left recovery", target.host,
             lambda h=target.host: hosts.wait_promoted(h))
    for host in _pooler_hosts(deployment):
        step("start PgBouncer", host, lambda h=host: hosts.set_units(
            h, hosts.units_of_pooler(hv[h.name]), "start"))
    for media in plan.media:
        step(f"restic restore of the media files (snapshot {media.snapshot[:8]})", media.host,
             lambda m=media: hosts.restore_media(m))
    if replacement is not None:
        start_app()
        app_running = True
        step("apply: every host pointed at the replacement", plan.stanzas[0].host,
             replacement.reconfigure)
    step("ssas-manage check", web, lambda: hosts.manage(web, "check", "--database",
                                                         "default"))
    step("ssas-manage migrate --check", web, lambda: hosts.manage(web, "migrate", "--check"))
    text = step("ssas-manage table_checksums", web,
                lambda: hosts.manage(web, "table_checksums", "--json"))
    try:
        outcome.checksums = json.loads(text)
    except ValueError:
        raise StepFailed("ssas-manage table_checksums", web.name,
                         f"no JSON: {str(text).strip()[-200:]}") from None
    if replacement is None:
        start_app()
    app_running = True
    for host in deployment.topology.with_role(Role.web):
        url = f"http://{hv[host.name]['gunicorn_bind']}/monitoring/ready/"
        step("wait for /monitoring/ready/", host, lambda h=host, u=url: _wait_ready(h, u))
    for lb in deployment.topology.with_role(Role.load_balancer):
        url = f"https://{lb.address}/monitoring/ready/"
        step("/monitoring/ready/ through nginx", lb, lambda h=lb, u=url: _wait_ready(h, u))
    repo = backup_host(deployment)
    for target in plan.stanzas:
        step(f"pgbackrest check of {target.stanza} (WAL archiving)", repo,
             lambda s=target.stanza: hosts.check_stanza(repo, s))
    return outcome


def _wait_ready(host: Host, url: str, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = hosts.http_status(host, url)
        if code == "200":
            return
        if time.monotonic() > deadline:
            raise hosts.RemoteError(f"{url} answers {code or 'nothing'} after {timeout:.0f} s")
        time.sleep(2)


def way_back(deployment, plan: RestorePlan) -> list[str]:
    """The commands, in order, that restore and start everything by hand (one per line)."""
    def ssh(host: Host, command: str) -> str:
        return f"{ssh_prefix(host)} {shlex.quote(command)}"

    hv = deployment.host_vars
    lines = []
    for target in plan.stanzas:
        lines.append(ssh(target.host, f"systemctl stop {hosts.POSTGRES_UNIT} && "
                                      + hosts.restore_command(target)))
        lines.append(ssh(target.host, f"systemctl reset-failed {hosts.POSTGRES_UNIT}; "
                                      f"systemctl start {hosts.POSTGRES_UNIT}"))
    for host in _pooler_hosts(deployment):
        lines.append(ssh(host, "systemctl start " + " ".join(hosts.units_of_pooler(hv[host.name]))))
    for media in plan.media:
        lines.append(ssh(media.host, hosts.media_restore_command(media)))
    for host in _app_hosts(deployment):
        lines.append(ssh(host, "systemctl start " + " ".join(hosts.units_of_app(hv[host.name]))))
    return lines
