"""Template variables for each service on one host, from the deployment's sizing.

Every function returns plain data (str, int, bool, list, dict) named with the prefix of the
Ansible role that templates it, so `render` and the roles see identical variables.
"""

import ipaddress

from ssas_deploy.context import paths
from ssas_deploy.context.backup import archive_settings
from ssas_deploy.context.patroni import patroni_cluster
from ssas_deploy.context.routes import LOGIN_LOCATION, ML_LOCATION
from ssas_deploy.profiles.models import Role, is_ip_address
from ssas_deploy.sizing.celery import QUEUES, visibility_timeout
from ssas_deploy.sizing.plan import DATABASE_ROLES, DeploymentSizing, HostSizing, is_beat_host
from ssas_deploy.sizing.redis import SENTINEL_PORT
from ssas_deploy.topology import Host, Topology

# Sentinel's state directory, where it keeps (and rewrites) its configuration.
SENTINEL_DIR = "/var/lib/redis/ssas-sentinel"
# A primary silent for down_after_ms is down for one Sentinel (SDOWN); when `quorum` agree
# (ODOWN) one Sentinel, elected by a majority, promotes a replica, and tries again after
# failover_timeout_ms if that fails (Redis docs, "High availability with Sentinel").
SENTINEL_TIMING = {"down_after_ms": 5000, "failover_timeout_ms": 60000}


def sentinel_quorum(sentinels: int) -> int:
    """Sentinels that must agree a primary is down: a strict majority of the group's
    Sentinels (2 of 3), so one Sentinel cut off from the others can never start a failover
    (the majority Redis documents for the election applies as well). Raises ValueError for
    fewer than two Sentinels."""
    if sentinels < 2:
        raise ValueError("Sentinel needs a group of at least two hosts")
    return sentinels // 2 + 1


def private_address(topology: Topology, host: Host, peer: Host) -> str:
    """How `host` reaches `peer`: loopback when they are the same machine."""
    return "127.0.0.1" if host.name == peer.name else peer.address


def database_vars(deployment: DeploymentSizing, sizing: HostSizing) -> dict:
    host = sizing.host
    profile = deployment.profile
    topology = deployment.topology
    pg = sizing.postgresql
    role = next(r for r in DATABASE_ROLES if host.has(r))
    clients = _app_hosts(topology)
    remote_clients = [h for h in clients if h.name != host.name]
    settings = {name: d.value for name, d in pg.settings.items()}
    settings.update(archive_settings(deployment, host))
    primary = topology.first(Role.database)
    hba = [
        {"type": "local", "database": "all", "user": "postgres", "address": "",
         "method": "peer"},
        {"type": "host", "database": "all", "user": "all", "address": "127.0.0.1/32",
         "method": "scram-sha-256"},
        {"type": "host", "database": "all", "user": "all", "address": "::1/128",
         "method": "scram-sha-256"},
    ]
    pooled = sizing.pgbouncer is not None
    if not pooled:
        for client in remote_clients:
            # Remote app hosts must use TLS (the guide's "database connections encrypted").
            hba.append({"type": "hostssl", "database": _db_name(deployment, host),
                        "user": profile.database.user, "address": hba_address(client.address),
                        "method": "scram-sha-256"})
    replicas = topology.with_role(Role.database_replica)
    # The cluster's members only: a shard server is not one (nothing replicates it).
    members = patroni_cluster(topology)
    if host.name not in {m.name for m in members}:
        members = []
    # Under Patroni any member may lead: each takes base backups and streaming from the
    # others, and pg_rewind (which reads the new leader's catalog in the postgres database).
    for peer in (m for m in members if m.name != host.name):
        for database, user in (("replication", "replicator"), ("postgres", "rewind")):
            hba.append({"type": "hostssl", "database": database, "user": user,
                        "address": hba_address(peer.address), "method": "scram-sha-256"})
    listen = ["localhost"]
    if (remote_clients and not pooled) or members:
        listen.append(host.address)
    return {
        "postgresql_version": paths.POSTGRES_VERSION,
        "postgresql_port": paths.POSTGRES_PORT,
        "postgresql_conf_dir": paths.PG_CONF_DIR,
        "postgresql_listen_addresses": ",".join(listen),
        "postgresql_settings": settings,
        "postgresql_hba": hba,
        "postgresql_database": _db_name(deployment, host),
        "postgresql_user": profile.database.user,
        # A shard server is the primary of its own shard database (the role creates it).
        "postgresql_replication_role": {
            Role.database: "primary", Role.database_replica: "replica",
            Role.database_shard: "primary"}[role],
        "postgresql_primary_address": primary.address if role is Role.database_replica else "",
        # A hot standby needs at least the primary's max_wal_senders (sizing.plan,
        # STANDBY_AT_LEAST_PRIMARY): the replicas get the primary's.
        # Who starts the server: Debian's postgresql@ unit, or Patroni on the HA cluster's
        # members (the role then writes the files Patroni reads and leaves the unit masked).
        "postgresql_ha_manager": "patroni" if members else "systemd",
        # On a Patroni cluster, the value Patroni starts the server with (context.patroni:
        # every member, plus a base backup and pg_rewind), so the file does not contradict it.
        "postgresql_wal_senders": ((len(members) if members else len(replicas)) + 2
                                   if role in (Role.database, Role.database_replica) else 0),
    }


def hba_address(address: str) -> str:
    """pg_hba takes an IP with a mask, or a host name without one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return f"{ip}/{ip.max_prefixlen}"


def _db_name(deployment: DeploymentSizing, host: Host) -> str:
    base = deployment.profile.database.name
    if host.has(Role.database_shard):
        return f"{base}_shard_{host.index}"
    return base


def _app_hosts(topology: Topology) -> list[Host]:
    return [h for h in topology.hosts if h.has(Role.web) or h.has(Role.celery_worker)]


def pgbouncer_vars(deployment: DeploymentSizing, sizing: HostSizing) -> dict:
    host = sizing.host
    pgb = sizing.pgbouncer
    remote = [h for h in _app_hosts(deployment.topology) if h.name != host.name]
    return {
        "pgbouncer_listen_addr": ",".join(["127.0.0.1", *([host.address] if remote else [])]),
        "pgbouncer_port": paths.PGBOUNCER_PORT,
        "pgbouncer_database": _db_name(deployment, host),
        "pgbouncer_user": deployment.profile.database.user,
        "pgbouncer_default_pool_size": pgb.default_pool_size.value,
        "pgbouncer_reserve_pool_size": pgb.reserve_pool_size.value,
        "pgbouncer_max_client_conn": pgb.max_client_conn.value,
        "pgbouncer_client_addresses": [h.address for h in remote],
        # Clients on other hosts must use TLS (as PostgreSQL's hostssl rules require of them
        # where nothing pools); a pooler reached only from its own host may still offer it.
        "pgbouncer_client_tls_sslmode": "require" if remote else "prefer",
    }


def redis_vars(deployment: DeploymentSizing, sizing: HostSizing) -> dict:
    """The redis role's variables: this host's instances and, in a group of several hosts,
    its Sentinel (state directory, and whether it must resolve host names)."""
    host = sizing.host
    topology = deployment.topology
    instances = []
    for kind, redis in (sizing.redis or {}).items():
        role = Role.redis_cache if kind == "cache" else Role.redis_broker
        group = topology.with_role(role)
        clients = [h for h in _app_hosts(topology) if h.name != host.name]
        peers = [h for h in group if h.name != host.name]
        bind = ["127.0.0.1", *([host.address] if clients or peers else [])]
        primary = group[0]
        instances.append({
            "name": kind,
            "unit": f"ssas-redis-{kind}",
            "port": redis.port,
            "bind": " ".join(bind),
            "maxmemory": redis.maxmemory.value,
            "maxmemory_policy": redis.maxmemory_policy.value,
            "appendonly": redis.appendonly.value,
            "save": redis.save.value,
            "dir": f"/var/lib/redis/ssas-{kind}",
            "conf": f"/etc/redis/ssas-{kind}.conf",
            "aclfile": f"/etc/redis/ssas-{kind}.acl",
            "auth_include": f"/etc/redis/ssas-{kind}-auth.conf",
            "replicaof": "" if primary.name == host.name else f"{primary.address} {redis.port}",
            "sentinel": len(group) > 1,
            "master_name": f"ssas-{kind}",
            "group_addresses": [h.address for h in group],
            "sentinel_quorum": sentinel_quorum(len(group)) if len(group) > 1 else 0,
            "sentinel_down_after_ms": SENTINEL_TIMING["down_after_ms"],
            "sentinel_failover_timeout_ms": SENTINEL_TIMING["failover_timeout_ms"],
        })
    watched = [h for i in instances if i["sentinel"] for h in i["group_addresses"]]
    return {
        "redis_instances": instances,
        "redis_sentinel_port": SENTINEL_PORT,
        "redis_sentinel_enabled": any(i["sentinel"] for i in instances),
        "redis_sentinel_dir": SENTINEL_DIR,
        # Sentinel rewrites this file; the seed (/etc/redis/ssas-sentinel.conf) is the role's.
        "redis_sentinel_conf": f"{SENTINEL_DIR}/sentinel.conf",
        "redis_sentinel_hostnames": any(not is_ip_address(a) for a in watched),
    }



def gunicorn_vars(sizing: HostSizing, topology: Topology) -> dict:
    g = sizing.gunicorn
    remote_lb = [h for h in topology.with_role(Role.load_balancer) if h.name != sizing.host.name]
    bind_address = sizing.host.address if remote_lb else "127.0.0.1"
    proxies = [h.address for h in remote_lb] or ["127.0.0.1"]
    return {
        "gunicorn_bind": f"{bind_address}:{paths.GUNICORN_PORT}",
        "gunicorn_forwarded_allow_ips": ",".join(proxies),
        "gunicorn_workers": g.workers.value,
        "gunicorn_threads": g.threads.value,
        "gunicorn_timeout": g.timeout.value,
        "gunicorn_graceful_timeout": g.graceful_timeout.value,
        "gunicorn_keepalive": g.keepalive.value,
        "gunicorn_max_requests": g.max_requests.value,
        "gunicorn_max_requests_jitter": g.max_requests_jitter.value,
    }


def celery_vars(deployment: DeploymentSizing, sizing: HostSizing) -> dict:
    groups = [
        {
            "name": g.name,
            "unit": g.unit,
            "queues": list(g.queues),
            "concurrency": g.concurrency.value,
            "prefetch_multiplier": g.prefetch_multiplier,
            "stop_timeout": g.stop_timeout.value,
        }
        for g in sizing.celery_groups
    ]
    return {
        "celery_worker_groups": groups,
        "celery_beat_enabled": is_beat_host(deployment.topology, sizing.host),
    }


def celery_settings_vars() -> dict:
    """Queue policy shared by every host that enqueues or runs tasks."""
    return {
        "celery_queues": [
            {
                "name": q.name,
                "task": q.task,
                "soft_time_limit": q.soft_time_limit,
                "time_limit": q.time_limit,
                "acks_late": q.acks_late,
            }
            for q in QUEUES
        ],
        "celery_visibility_timeout": visibility_timeout().value,
    }


def nginx_vars(deployment: DeploymentSizing, sizing: HostSizing) -> dict:
    n = sizing.nginx
    topology = deployment.topology
    upstreams = []
    for web in topology.with_role(Role.web):
        upstreams.append({
            "host": web.name,
            "address": private_address(topology, sizing.host, web),
            "port": paths.GUNICORN_PORT,
            "weight": web.hardware.cpu_cores,
        })
    site = deployment.profile.site
    return {
        "nginx_worker_processes": n.worker_processes.value,
        "nginx_worker_connections": n.worker_connections.value,
        "nginx_worker_rlimit_nofile": n.worker_rlimit_nofile.value,
        "nginx_upstream_keepalive": n.upstream_keepalive.value,
        "nginx_upstreams": upstreams,
        "nginx_server_name": site.server_name,
        "nginx_tls_certificate": f"{paths.TLS_DIR}/ssas.crt",
        "nginx_tls_certificate_key": f"{paths.TLS_DIR}/ssas.key",
        "nginx_api_rate": n.api_rate.value,
        "nginx_api_burst": n.api_burst.value,
        "nginx_ml_rate": n.ml_rate.value,
        "nginx_ml_burst": n.ml_burst.value,
        "nginx_login_rate": n.login_rate.value,
        "nginx_login_burst": n.login_burst.value,
        "nginx_ml_location": ML_LOCATION,
        "nginx_login_location": LOGIN_LOCATION,
        "nginx_ml_read_timeout": n.ml_read_timeout.value,
        "nginx_api_read_timeout": n.api_read_timeout.value,
    }
