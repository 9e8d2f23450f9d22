"""Which files each host gets: template, destination, ownership and the service they feed."""

from dataclasses import dataclass, field
from typing import Literal

Action = Literal["reload", "restart", "daemon-reload"]


@dataclass(frozen=True)
class ManagedFile:
    template: str  # relative to templates/
    dest: str
    owner: str
    group: str
    mode: str
    service: str | None
    action: Action | None
    secret: bool = False
    extra_vars: dict = field(default_factory=dict)


SENTINEL_UNIT = "ssas-redis-sentinel"
SENTINEL_SEED = "/etc/redis/ssas-sentinel.conf"
RESTART_DROPIN = "systemd/ssas-restart.conf.j2"
SANDBOXING_DROPIN = "systemd/ssas-sandboxing.conf.j2"


def restart_dropin(unit: str) -> ManagedFile:
    """Restart=on-failure with start limits for a distribution's unit (ours say it themselves).

    Restart= and the start limits apply at the next crash after a daemon-reload: no restart.
    """
    return ManagedFile(RESTART_DROPIN, f"/etc/systemd/system/{unit}.service.d/ssas-restart.conf",
                       "root", "root", "0644", unit, "daemon-reload")


def sandboxing_dropin(unit: str) -> ManagedFile:
    """The project's systemd sandboxing for a distribution's unit; applies at the next start."""
    return ManagedFile(SANDBOXING_DROPIN,
                       f"/etc/systemd/system/{unit}.service.d/ssas-sandboxing.conf",
                       "root", "root", "0644", unit, "restart",
                       extra_vars={"systemd_restart_unit": f"{unit}.service"})


def distribution_dropins(unit: str) -> list[ManagedFile]:
    """Both drop-ins the systemd_restart role writes for a distribution's unit."""
    return [restart_dropin(unit), sandboxing_dropin(unit)]


def files_for_host(hv: dict) -> list[ManagedFile]:
    """Every config file of one host, from its template variables (see context.build)."""
    files = [
        ManagedFile("common/nftables.conf.j2", "/etc/nftables.conf", "root", "root", "0640",
                    "nftables", "reload"),
        ManagedFile("common/20auto-upgrades.j2", "/etc/apt/apt.conf.d/20auto-upgrades", "root",
                    "root", "0644", None, None),
        ManagedFile("common/52ssas-unattended-upgrades.j2",
                    "/etc/apt/apt.conf.d/52ssas-unattended-upgrades", "root", "root", "0644",
                    None, None),
        ManagedFile("common/sshd-hardening.conf.j2",
                    "/etc/ssh/sshd_config.d/00-ssas-hardening.conf", "root", "root", "0644",
                    "ssh", "reload"),
    ]
    roles = set(hv["ssas_roles"])
    if "postgresql_settings" in hv:
        conf = hv["postgresql_conf_dir"]
        # On the HA cluster's members Patroni runs the server; Debian's unit is masked.
        patroni = hv.get("postgresql_ha_manager") == "patroni"
        unit = "patroni" if patroni else f"postgresql@{hv['postgresql_version']}-main"
        files += [
            # Reloaded; restarted only when PostgreSQL reports a setting pending restart.
            ManagedFile("postgresql/postgresql.conf.j2", f"{conf}/postgresql.conf", "postgres",
                        "postgres", "0644", unit, "reload"),
            ManagedFile("postgresql/pg_hba.conf.j2", f"{conf}/pg_hba.conf", "postgres",
                        "postgres", "0640", unit, "reload"),
            *([] if patroni else distribution_dropins(unit)),
        ]
    files += _patroni_files(hv)
    if "pgbouncer_port" in hv:
        files += [
            ManagedFile("pgbouncer/pgbouncer.ini.j2", "/etc/pgbouncer/pgbouncer.ini", "postgres",
                        "postgres", "0640", "pgbouncer", "reload"),
            ManagedFile("pgbouncer/userlist.txt.j2", "/etc/pgbouncer/userlist.txt", "postgres",
                        "postgres", "0640", "pgbouncer", "reload", secret=True),
            *distribution_dropins("pgbouncer"),
        ]
    for instance in hv.get("redis_instances", []):
        extra = {"redis_instance": instance}
        unit = instance["unit"]
        files += [
            ManagedFile("redis/redis.conf.j2", instance["conf"], "redis", "redis", "0640",
                        unit, "restart", extra_vars=extra),
            # ACL LOAD applies a changed user file without a restart.
            ManagedFile("redis/users.acl.j2", instance["aclfile"], "redis", "redis", "0640",
                        unit, "reload", secret=True, extra_vars=extra),
            ManagedFile("systemd/ssas-redis.service.j2", f"/etc/systemd/system/{unit}.service",
                        "root", "root", "0644", unit, "restart", extra_vars=extra),
        ]
        if instance["replicaof"] or instance["sentinel"]:
            files.append(ManagedFile("redis/replica-auth.conf.j2", instance["auth_include"],
                                     "redis", "redis", "0640", unit, "restart", secret=True,
                                     extra_vars=extra))
    if hv.get("redis_sentinel_enabled"):
        # The seed: the role copies it to redis_sentinel_conf, which Sentinel rewrites.
        files += [
            ManagedFile("redis/sentinel.conf.j2", SENTINEL_SEED, "redis", "redis", "0640",
                        SENTINEL_UNIT, "restart", secret=True),
            ManagedFile("systemd/ssas-redis-sentinel.service.j2",
                        f"/etc/systemd/system/{SENTINEL_UNIT}.service", "root", "root", "0644",
                        SENTINEL_UNIT, "restart"),
        ]
    if roles & {"web", "celery_worker"}:
        files += _app_files(hv)
    files += _backup_files(hv)
    if "nginx_upstreams" in hv:
        files += [
            ManagedFile("nginx/nginx.conf.j2", "/etc/nginx/nginx.conf", "root", "root", "0644",
                        "nginx", "reload"),
            ManagedFile("nginx/ssas.conf.j2", "/etc/nginx/conf.d/ssas.conf", "root", "root",
                        "0644", "nginx", "reload"),
            ManagedFile("nginx/ssas_proxy_params.j2", "/etc/nginx/ssas_proxy_params", "root",
                        "root", "0644", "nginx", "reload"),
            *distribution_dropins("nginx"),
        ]
    return files


def _patroni_files(hv: dict) -> list[ManagedFile]:
    """Patroni's configuration on each member of the PostgreSQL HA cluster and etcd's on the
    DCS members (context.patroni). Patroni reloads its file on SIGHUP (Debian's unit)."""
    files: list[ManagedFile] = []
    if "patroni_scope" in hv:
        # The cluster's TLS (cluster_tls): Patroni reloads its certificates on SIGHUP; etcd
        # reads them when it starts.
        files += [
            ManagedFile("patroni/cluster-ca.pem.j2", hv["patroni_tls_ca_file"], "root", "root",
                        "0644", "patroni", "reload"),
            ManagedFile("patroni/member.pem.j2", hv["patroni_tls_cert_file"], "root", "root",
                        "0644", "patroni", "reload"),
            ManagedFile("patroni/member.key.j2", hv["patroni_tls_key_file"], "root", "ssl-cert",
                        "0640", "patroni", "reload", secret=True),
            ManagedFile("patroni/config.yml.j2", "/etc/patroni/config.yml", "postgres",
                        "postgres", "0600", "patroni", "reload", secret=True),
        ]
    if "etcd_name" in hv:
        files.append(ManagedFile("patroni/etcd.j2", "/etc/default/etcd", "root", "root",
                                 "0644", "etcd", "restart"))
    return files


def _app_files(hv: dict) -> list[ManagedFile]:
    cfg = hv["ssas_config_dir"]
    user = hv["ssas_app_user"]
    app_units = []
    if "gunicorn_workers" in hv:
        app_units.append("ssas-gunicorn")
    app_units += [g["unit"] for g in hv.get("celery_worker_groups", [])]
    first = app_units[0]
    files = [
        ManagedFile("django/ssas_settings.py.j2", f"{cfg}/ssas_settings.py", "root", user,
                    "0640", first, "reload" if first == "ssas-gunicorn" else "restart"),
        ManagedFile("celery/ssas_celery.py.j2", f"{cfg}/ssas_celery.py", "root", user, "0640",
                    first, "reload" if first == "ssas-gunicorn" else "restart"),
        ManagedFile("django/secrets.env.j2", hv["ssas_secrets_env"], "root", user, "0640",
                    first, "restart", secret=True),
    ]
    if "gunicorn_workers" in hv:
        files += [
            ManagedFile("gunicorn/gunicorn.conf.py.j2", f"{cfg}/gunicorn.conf.py", "root", user,
                        "0640", "ssas-gunicorn", "reload"),
            ManagedFile("systemd/ssas-gunicorn.service.j2",
                        "/etc/systemd/system/ssas-gunicorn.service", "root", "root", "0644",
                        "ssas-gunicorn", "restart"),
        ]
    for group in hv.get("celery_worker_groups", []):
        files.append(ManagedFile("systemd/ssas-celery-worker.service.j2",
                                 f"/etc/systemd/system/{group['unit']}.service", "root", "root",
                                 "0644", group["unit"], "restart",
                                 extra_vars={"celery_group": group}))
    if hv.get("celery_beat_enabled"):
        files.append(ManagedFile("systemd/ssas-celery-beat.service.j2",
                                 "/etc/systemd/system/ssas-celery-beat.service", "root", "root",
                                 "0644", "ssas-celery-beat", "restart"))
    return files


PGBACKREST_UNITS = ("service", "timer")


def pgbackrest_unit(kind: str, stanza: str) -> str:
    """`ssas-pgbackrest-<full|diff>-<stanza>`: one unit (and timer) per backup type and stanza."""
    return f"ssas-pgbackrest-{kind}-{stanza}"


def _backup_files(hv: dict) -> list[ManagedFile]:
    """pgBackRest's config on database and backup hosts, its timers on the backup host, and
    restic's wrapper, environment and timer on app hosts (see context.backup)."""
    files: list[ManagedFile] = []
    conf = hv.get("backup_pgbackrest_conf")
    if hv.get("backup_is_database"):
        # No daemon to reload: archive-push reads it at each WAL segment.
        files.append(ManagedFile("backup/pgbackrest-database.conf.j2", conf, "root", "postgres",
                                 "0640", None, None))
    if hv.get("backup_is_repository"):
        user = hv["backup_pgbackrest_user"]
        files.append(ManagedFile("backup/pgbackrest-repository.conf.j2", conf, "root", user,
                                 "0640", None, None, secret=True))
        for stanza in hv["backup_stanzas"]:
            for kind in ("full", "diff"):
                unit = pgbackrest_unit(kind, stanza["name"])
                extra = {"backup_stanza": stanza, "backup_kind": kind}
                files += [
                    ManagedFile(f"backup/ssas-pgbackrest.{suffix}.j2",
                                f"/etc/systemd/system/{unit}.{suffix}", "root", "root", "0644",
                                f"{unit}.timer", "daemon-reload", extra_vars=extra)
                    for suffix in PGBACKREST_UNITS
                ]
    if hv.get("backup_is_files_client"):
        cfg = hv["backup_restic_config_dir"]
        files += [
            ManagedFile("backup/restic.env.j2", f"{cfg}/restic.env", "root", "root", "0600",
                        None, None, secret=True),
            ManagedFile("backup/ssas-restic.j2", "/usr/local/sbin/ssas-restic", "root", "root",
                        "0755", None, None),
            ManagedFile("backup/ssas-restic-backup.service.j2",
                        "/etc/systemd/system/ssas-restic-backup.service", "root", "root", "0644",
                        "ssas-restic-backup.timer", "daemon-reload"),
            ManagedFile("backup/ssas-restic-backup.timer.j2",
                        "/etc/systemd/system/ssas-restic-backup.timer", "root", "root", "0644",
                        "ssas-restic-backup.timer", "daemon-reload"),
        ]
    return files
