"""What the rendered Django settings need: database aliases, caches, broker, hosts."""

from ssas_deploy.context import paths
from ssas_deploy.context.patroni import patroni_cluster
from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.plan import DeploymentSizing
from ssas_deploy.sizing.redis import BROKER_PORT, CACHE_PORT, SENTINEL_PORT
from ssas_deploy.topology import Host

CONN_MAX_AGE = 60


def django_vars(deployment: DeploymentSizing, host: Host) -> dict:
    profile = deployment.profile
    topology = deployment.topology
    lbs = topology.with_role(Role.load_balancer)
    allowed = [profile.site.server_name, *[h.address for h in lbs], host.address,
               "localhost", "127.0.0.1"]
    shards = topology.with_role(Role.database_shard)
    replicas = topology.with_role(Role.database_replica)
    return {
        "ssas_django_allowed_hosts": list(dict.fromkeys(allowed)),
        "ssas_django_csrf_trusted_origins": [
            f"https://{name}" for name in dict.fromkeys([profile.site.server_name,
                                                         *[h.address for h in lbs]])
        ],
        "ssas_django_databases": _databases(deployment, host),
        "ssas_django_read_replicas": [f"replica_{i + 1}" for i in range(len(replicas))],
        # The app's SSAS_SHARDS (a list of aliases); which school is on which shard is the
        # app's own map in the database (ssas.sharding), not a file.
        "ssas_django_shards": [f"shard_{h.index}" for h in shards],
        "ssas_django_caches": _caches(deployment, host),
        "ssas_django_broker": _broker(deployment, host, db=0),
        "ssas_django_result_backend": _broker(deployment, host, db=1),
        **email_vars(deployment),
    }


def _databases(deployment: DeploymentSizing, host: Host) -> dict:
    profile = deployment.profile
    if profile.database.engine == "sqlite":
        return {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": paths.SQLITE_PATH}}
    topology = deployment.topology
    pooled = profile.database.pooler == "pgbouncer"
    aliases = {"default": topology.first(Role.database)}
    for i, replica in enumerate(topology.with_role(Role.database_replica)):
        aliases[f"replica_{i + 1}"] = replica
    for shard in topology.with_role(Role.database_shard):
        aliases[f"shard_{shard.index}"] = shard
    cluster = patroni_cluster(topology)
    result = {}
    for alias, db_host in aliases.items():
        local = db_host.name == host.name
        settings = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": (f"{profile.database.name}_shard_{db_host.index}"
                     if db_host.has(Role.database_shard) else profile.database.name),
            "USER": profile.database.user,
            "HOST": "127.0.0.1" if local else db_host.address,
            "PORT": paths.PGBOUNCER_PORT if pooled else paths.POSTGRES_PORT,
            # Alias-level keys, not OPTIONS (seed errata #1, #2).
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
            # A database host that drops packets must not hang a worker past its timeout.
            # TLS on every link between hosts, to PostgreSQL (hostssl) or to PgBouncer
            # (client_tls_sslmode = require).
            "OPTIONS": {"sslmode": "prefer" if local else "require",
                        "connect_timeout": 5},
        }
        if alias == "default" and cluster:
            # Whichever member Patroni made the leader: libpq tries the members in turn and
            # keeps the one that takes writes (through each member's PgBouncer when pooled).
            # libpq checks that only when it connects, and a PgBouncer whose server was
            # demoted keeps the app's connection open (SELECT 1 still works there), so the
            # app connects anew for each request (CONN_MAX_AGE 0; cheap through PgBouncer).
            settings["HOST"] = ",".join("127.0.0.1" if m.name == host.name else m.address
                                        for m in cluster)
            settings["CONN_MAX_AGE"] = 0
            settings["OPTIONS"] = {**settings["OPTIONS"], "sslmode": "require",
                                   "target_session_attrs": "read-write"}
        if pooled:
            # Transaction pooling cannot keep server-side cursors across transactions.
            settings["DISABLE_SERVER_SIDE_CURSORS"] = True
        if alias.startswith("replica_"):
            settings["TEST"] = {"MIRROR": "default"}
        result[alias] = settings
    return result


def _redis_endpoint(deployment: DeploymentSizing, host: Host, role: Role, port: int,
                    db: int) -> dict:
    group = deployment.topology.with_role(role)
    kind = "cache" if role is Role.redis_cache else "broker"
    if len(group) > 1:
        return {
            "kind": "sentinel",
            "master": f"ssas-{kind}",
            "sentinels": [[h.address, SENTINEL_PORT] for h in group],
            "db": db,
        }
    peer = group[0]
    address = "127.0.0.1" if peer.name == host.name else peer.address
    return {"kind": "redis", "host": address, "port": port, "db": db}


def _caches(deployment: DeploymentSizing, host: Host) -> dict:
    if deployment.profile.cache == "local":
        return {
            "default": {"kind": "local", "location": "ssas-default", "timeout": 300},
            "ml_cache": {"kind": "local", "location": "ssas-ml", "timeout": 1800},
            # Per-user API limits must be counted once for all gunicorn workers: files on
            # the one server (ssas.api.throttles).
            "throttle": {"kind": "file", "location": f"{paths.DATA_DIR}/throttle",
                         "timeout": 3600},
        }
    default = _redis_endpoint(deployment, host, Role.redis_cache, CACHE_PORT, 0)
    ml = _redis_endpoint(deployment, host, Role.redis_cache, CACHE_PORT, 1)
    return {
        "default": {**default, "timeout": 300, "key_prefix": "ssas"},
        "ml_cache": {**ml, "timeout": 1800, "key_prefix": "ssas_ml"},
        "throttle": {**default, "timeout": 3600, "key_prefix": "ssas_throttle"},
    }


def _broker(deployment: DeploymentSizing, host: Host, db: int) -> dict:
    return _redis_endpoint(deployment, host, Role.redis_broker, BROKER_PORT, db)


def email_vars(deployment: DeploymentSizing) -> dict:
    """`ssas_django_email`: the app's outgoing mail settings from the profile's `mail`
    (host empty: the mails go to files, the base settings' backend)."""
    profile = deployment.profile
    mail = profile.mail
    return {"ssas_django_email": {
        "host": mail.smtp_host,
        "port": mail.port(),
        "use_tls": mail.security == "starttls",
        "use_ssl": mail.security == "tls",
        "user": mail.username,
        "from": mail.from_address or f"noreply@{profile.site.server_name}",
    }, "ssas_django_time_zone": profile.site.time_zone,
        "ssas_django_language": profile.site.language}
