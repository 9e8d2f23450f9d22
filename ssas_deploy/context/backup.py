"""Template variables of the backups: pgBackRest (PostgreSQL) and restic (media files).

The `backup` host keeps both repositories. pgBackRest runs in its repository-host mode: the
backups are taken *from* the backup host (`pgbackrest backup` there reaches each database
host over SSH as postgres), and each database host pushes its WAL to the backup host over SSH
(`archive_command`). restic on every app host writes its media files over SFTP to a
repository of that host's own on the backup host.

Stanzas are named after the database's role, not its host, so a restore onto a replacement
host (`pgbackrest --stanza=ssas restore --type=time --target=...`) finds its backups.

On a Patroni cluster every member may lead, so every member archives (archive_mode = on only
archives while it is the primary) and the backup host lists them all as the stanza's pg1..pgN
hosts: pgBackRest backs up from whichever of them is the primary at the time.
"""

from ssas_deploy.context import paths
from ssas_deploy.context.patroni import patroni_cluster
from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.plan import DeploymentSizing
from ssas_deploy.topology import Host, Topology

PGBACKREST_USER = "pgbackrest"
PGBACKREST_REPO = "/var/lib/pgbackrest"
PGBACKREST_CONF = "/etc/pgbackrest/pgbackrest.conf"
PGBACKREST_LOG = "/var/log/pgbackrest"
RESTIC_USER = "ssas-restic"
RESTIC_REPO_ROOT = "/var/lib/ssas-restic"
RESTIC_CONFIG_DIR = "/etc/ssas/restic"
PG_DATA = f"/var/lib/postgresql/{paths.POSTGRES_VERSION}/main"
# zstd: fast and small; Debian's pgbackrest 2.45 is built with it.
COMPRESS_TYPE = "zst"


def stanza_name(host: Host) -> str:
    """`ssas` for the primary, `ssas-shard-<n>` (0-based) for each shard."""
    if host.has(Role.database_shard):
        return f"ssas-shard-{host.index}"
    return "ssas"


def backed_up_databases(topology: Topology) -> list[Host]:
    """Every database host whose data only it holds: the primary and each shard.

    Replicas are copies of the primary (same stanza, same data): nothing of their own to
    back up.
    """
    return [h for h in topology.hosts
            if h.has(Role.database) or h.has(Role.database_shard)]


def stanza_members(topology: Topology, host: Host) -> list[Host]:
    """The PostgreSQL servers of `host`'s stanza (`host` from `backed_up_databases`), the
    backup host's pg1..pgN: the Patroni cluster's members when `host` leads one (any member
    may be the primary after a failover), else `host` alone."""
    cluster = patroni_cluster(topology)
    return cluster if host in cluster else [host]


def archiving_databases(topology: Topology) -> list[Host]:
    """Every database host that archives WAL when it is the primary: `backed_up_databases`
    plus the Patroni replicas of a stanza."""
    return [m for h in backed_up_databases(topology) for m in stanza_members(topology, h)]


def media_hosts(topology: Topology) -> list[Host]:
    """Hosts that run the app and keep MEDIA_ROOT on their own disk (not shared)."""
    return [h for h in topology.hosts if h.has(Role.web) or h.has(Role.celery_worker)]


def _peer(host: Host) -> dict:
    return {"name": host.name, "address": host.address, "ssh_port": host.ssh.port}


def backup_vars(deployment: DeploymentSizing, host: Host) -> dict:
    """The `backup_*` variables of one host ({} when it takes no part in backups).

    Keys (each only where it applies): `backup_repository` (the backup host's name, address
    and SSH port), `backup_pgbackrest_stanza` (database hosts, Patroni replicas included),
    `backup_stanzas` (the backup host: one {name (stanza), host, address, ssh_port (of the
    first primary), members: [{name, host, address, ssh_port}] (pg1..pgN, `stanza_members`)}
    per backed-up database), `backup_restic_*`
    (app hosts and the backup host), the schedules (systemd OnCalendar strings) and the
    retention counts from the profile.
    """
    topology = deployment.topology
    repo = topology.first(Role.backup)
    if repo is None:
        return {}
    postgresql = deployment.profile.database.engine == "postgresql"
    databases = backed_up_databases(topology) if postgresql else []
    clients = media_hosts(topology)
    is_db = postgresql and host in archiving_databases(topology)
    is_client = host in clients
    is_repo = host.has(Role.backup)
    if not (is_db or is_client or is_repo):
        return {}
    policy = deployment.profile.backup
    out: dict = {
        "backup_repository": _peer(repo),
        "backup_pgbackrest_user": PGBACKREST_USER,
        "backup_pgbackrest_repo_path": PGBACKREST_REPO,
        "backup_pgbackrest_conf": PGBACKREST_CONF,
        "backup_pgbackrest_log_path": PGBACKREST_LOG,
        "backup_pgbackrest_compress_type": COMPRESS_TYPE,
        "backup_pg_data": PG_DATA,
        "backup_pg_port": paths.POSTGRES_PORT,
        "backup_restic_user": RESTIC_USER,
        "backup_restic_repo_root": RESTIC_REPO_ROOT,
        "backup_restic_config_dir": RESTIC_CONFIG_DIR,
        "backup_is_repository": is_repo,
        "backup_is_database": is_db,
        "backup_is_files_client": is_client,
    }
    if is_db:
        out["backup_pgbackrest_stanza"] = stanza_name(host)
    if is_repo:
        out.update({
            "backup_stanzas": [{**_peer(h), "host": h.name, "name": stanza_name(h),
                                "members": [{**_peer(m), "host": m.name}
                                            for m in stanza_members(topology, h)]}
                               for h in databases],
            "backup_restic_clients": [_peer(h) for h in clients],
            "backup_full_on_calendar": policy.full_on_calendar,
            "backup_diff_on_calendar": policy.diff_on_calendar,
            "backup_full_retention": policy.full_retention,
            "backup_diff_retention": policy.diff_retention,
            # One backup per stanza at a time; a process each for compression and transfer.
            "backup_process_max": max(1, min(4, host.hardware.cpu_cores)),
        })
    if is_client:
        out.update({
            "backup_restic_paths": [paths.MEDIA_ROOT],
            "backup_restic_repository": (
                f"sftp:{RESTIC_USER}@{_ssh_host(repo.address)}:{RESTIC_REPO_ROOT}/{host.name}"),
            "backup_files_on_calendar": policy.files_on_calendar,
            "backup_files_keep_daily": policy.files_keep_daily,
            "backup_files_keep_weekly": policy.files_keep_weekly,
        })
    return out


def archive_settings(deployment: DeploymentSizing, host: Host) -> dict[str, str]:
    """postgresql.conf lines that archive the WAL to the backup host (point-in-time recovery).

    Empty without a backup host or on a replica of a plain primary (the primary archives for
    both). Every Patroni member has them: PostgreSQL archives only while the member leads.
    """
    if deployment.topology.first(Role.backup) is None:
        return {}
    if host not in archiving_databases(deployment.topology):
        return {}
    stanza = stanza_name(host)
    return {
        "archive_mode": "on",
        "archive_command": f"'pgbackrest --stanza={stanza} archive-push %p'",
        # A WAL segment at least every 5 minutes on a quiet server: the recovery point
        # objective.
        "archive_timeout": "300",
    }


def _ssh_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address
