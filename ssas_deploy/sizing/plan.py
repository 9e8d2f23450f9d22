"""All derived numbers of a deployment, computed once from the topology."""

from dataclasses import dataclass, field, replace

from ssas_deploy.context import paths
from ssas_deploy.profiles.models import Profile, Role
from ssas_deploy.profiles.tiers import TIER_RANGES
from ssas_deploy.sizing.celery import WorkerGroup, size_worker_groups
from ssas_deploy.sizing.derived import Derived
from ssas_deploy.sizing.gunicorn import (
    GunicornSizing,
    peak_request_rate,
    recycling_jitter,
    size_gunicorn,
    worker_recycling,
)
from ssas_deploy.sizing.nginx import NginxSizing, size_nginx
from ssas_deploy.sizing.overrides import (
    Override,
    for_host,
    pin_fields,
    pin_settings,
    pinned,
    read_overrides,
)
from ssas_deploy.sizing.pgbouncer import PgbouncerSizing, size_pgbouncer
from ssas_deploy.sizing.postgresql import PostgresSizing, connections, size_postgresql
from ssas_deploy.sizing.redis import RedisSizing, size_redis
from ssas_deploy.sizing.shares import Share, share_of
from ssas_deploy.topology import Host, Topology

DATABASE_ROLES = (Role.database, Role.database_replica, Role.database_shard)


@dataclass
class HostSizing:
    host: Host
    shares: dict[Role, Share]
    gunicorn: GunicornSizing | None = None
    celery_groups: list[WorkerGroup] | None = None
    postgresql: PostgresSizing | None = None
    pgbouncer: PgbouncerSizing | None = None
    redis: dict[str, RedisSizing] | None = None
    nginx: NginxSizing | None = None
    # The profile's overrides that apply on this host: "section.setting" -> Override.
    overrides: dict[str, Override] = field(default_factory=dict)

    def explained(self) -> dict[str, dict[str, Derived]]:
        """Section -> setting -> Derived, in a stable order for `plan --explain`; a
        section and a setting joined by a dot name the value in a profile's `overrides:`
        (e.g. "postgresql" and "work_mem", "celery.ml-heavy" and "concurrency")."""
        out: dict[str, dict[str, Derived]] = {}
        if self.nginx:
            out["nginx"] = dict(vars(self.nginx))
        if self.gunicorn:
            out["gunicorn"] = dict(vars(self.gunicorn))
        for group in self.celery_groups or []:
            out[f"celery.{group.name}"] = celery_settings(group)
        if self.postgresql:
            out["postgresql"] = dict(self.postgresql.settings)
        if self.pgbouncer:
            out["pgbouncer"] = dict(vars(self.pgbouncer))
        for kind, redis in (self.redis or {}).items():
            out[f"redis_{kind}"] = {
                k: v for k, v in vars(redis).items() if isinstance(v, Derived)
            }
        return out


def celery_settings(group: WorkerGroup) -> dict[str, Derived]:
    """A worker group's derived values by their explained names."""
    return {"concurrency": group.concurrency, "TimeoutStopSec": group.stop_timeout}


def _pin_celery(group: WorkerGroup, here: dict[str, Override]) -> WorkerGroup:
    settings = pin_settings(celery_settings(group), f"celery.{group.name}", here)
    return replace(group, concurrency=settings["concurrency"],
                   stop_timeout=settings["TimeoutStopSec"])


@dataclass
class DeploymentSizing:
    profile: Profile
    topology: Topology
    hosts: dict[str, HostSizing]

    def db_clients(self) -> list[tuple[str, int]]:
        """Connections the app opens to each database alias, per client host."""
        clients = []
        for sizing in self.hosts.values():
            if sizing.gunicorn:
                clients.append((f"{sizing.host.name} gunicorn", sizing.gunicorn.db_connections))
            if sizing.celery_groups:
                children = sum(g.concurrency.value for g in sizing.celery_groups)
                beat = 1 if is_beat_host(self.topology, sizing.host) else 0
                clients.append((f"{sizing.host.name} celery", children + beat))
        return clients

    def growth_clients(self) -> list[tuple[str, int]]:
        """Connections of the app hosts the tier may still add by scale-out (TierRange web_max,
        workers_max): each new one opens as many as the largest of its kind here.

        Sizing an unpooled PostgreSQL for them up front means adding a web server or worker
        within the tier changes no restart-only setting (max_connections): scale-out restarts
        nothing that serves requests. Empty for tiers that grow by `migrate`.
        """
        limits = TIER_RANGES[self.profile.tier]
        web = [s.gunicorn.db_connections for s in self.hosts.values() if s.gunicorn]
        workers = [sum(g.concurrency.value for g in s.celery_groups)
                   for s in self.hosts.values() if s.celery_groups]
        room = []
        for kind, limit, pools in (("web server", limits.web_max, web),
                                   ("worker host", limits.workers_max, workers)):
            missing = (limit or 0) - len(pools)
            if pools and missing > 0:
                room.append((f"room for {missing} more {kind}(s), the tier's {limit}",
                             missing * max(pools)))
        return room


def is_beat_host(topology: Topology, host: Host) -> bool:
    return topology.first(Role.celery_worker) == host


def _size_web(profile: Profile, topology: Topology, host: Host, share: Share,
              here: dict[str, Override]) -> GunicornSizing:
    """Gunicorn on `host`, the overrides in; recycling follows the workers that will run."""
    web_cores = sum(h.hardware.cpu_cores for h in topology.with_role(Role.web))
    rate = peak_request_rate(profile.peak_concurrent_users, host.hardware.cpu_cores, web_cores)
    gunicorn = pin_fields(size_gunicorn(share, rate), "gunicorn", here)
    if gunicorn.workers.derived is not None:  # workers overridden
        recycling = pin_settings(worker_recycling(gunicorn.workers.value, rate), "gunicorn",
                                 here)
        gunicorn = replace(gunicorn, **recycling)
    if gunicorn.max_requests.derived is not None and gunicorn.max_requests_jitter.derived is None:
        # A pinned max_requests keeps its tenth as jitter, not the derived value's tenth.
        gunicorn = replace(gunicorn,
                           max_requests_jitter=recycling_jitter(gunicorn.max_requests.value))
    return gunicorn


def size_deployment(profile: Profile, topology: Topology) -> DeploymentSizing:
    """Every host's derived values, the profile's valid overrides pinned in as each is
    derived, so the values computed from it follow: gunicorn's workers and threads, Celery's
    concurrency and PgBouncer's pools feed max_connections, which feeds work_mem and the
    RAM check. Refused overrides are left out here (profiles validate reports them)."""
    overrides, _refused = read_overrides(profile)
    hosts: dict[str, HostSizing] = {}
    for host in topology.hosts:
        hw = host.hardware
        shares = {r: share_of(r, host.roles, hw.cpu_cores, hw.ram_gib) for r in host.roles}
        here = for_host(overrides, host)
        sizing = HostSizing(host, shares, overrides=here)
        if host.has(Role.web):
            sizing.gunicorn = _size_web(profile, topology, host, shares[Role.web], here)
        if host.has(Role.celery_worker):
            sizing.celery_groups = [_pin_celery(g, here)
                                    for g in size_worker_groups(shares[Role.celery_worker])]
        redis = {}
        for kind, role in (("cache", Role.redis_cache), ("broker", Role.redis_broker)):
            if host.has(role):
                redis[kind] = pin_fields(size_redis(kind, shares[role]), f"redis_{kind}", here)
        sizing.redis = redis or None
        hosts[host.name] = sizing
    deployment = DeploymentSizing(profile, topology, hosts)
    _size_databases(deployment)
    _size_load_balancer(deployment)
    return deployment


def _size_databases(deployment: DeploymentSizing) -> None:
    profile = deployment.profile
    if profile.database.engine != "postgresql":
        return
    clients = deployment.db_clients()
    pooled = profile.database.pooler == "pgbouncer"
    # The primary first: its replicas' connections and workers follow it.
    ordered = sorted(deployment.hosts.values(), key=lambda s: not s.host.has(Role.database))
    primary_conn = None
    for sizing in ordered:
        host = sizing.host
        role = next((r for r in DATABASE_ROLES if host.has(r)), None)
        if role is None:
            continue
        cores = host.hardware.cpu_cores
        if pooled:
            sizing.pgbouncer = pin_fields(size_pgbouncer(cores, clients), "pgbouncer",
                                          sizing.overrides)
            pool = sizing.pgbouncer.default_pool_size.value
            reserve = sizing.pgbouncer.reserve_pool_size.value
            server_clients = [("pgbouncer pool", pool), ("pgbouncer reserve", reserve)]
            max_conn = connections(server_clients, pooled=True)
        else:
            max_conn = connections(clients + deployment.growth_clients(), pooled=False)
        pinned_conn = sizing.overrides.get("postgresql.max_connections")
        if pinned_conn is not None:
            max_conn = pinned(max_conn, pinned_conn)
        if role is Role.database:
            primary_conn = max_conn
        elif (role is Role.database_replica and primary_conn and pinned_conn is None
              and primary_conn.value > max_conn.value):
            # Sized with it, so work_mem shares R among the connections it will allow.
            max_conn = Derived(primary_conn.value, f"the primary's ({primary_conn.formula}), "
                               f"above this host's {max_conn.value}", HOT_STANDBY_DOCS)
        tuned = size_postgresql(sizing.shares[role], cores, host.hardware.storage, max_conn)
        settings = {k: d for k, d in tuned.settings.items() if d.derived is None}
        settings = pin_settings(settings, "postgresql", sizing.overrides)
        sizing.postgresql = PostgresSizing({**tuned.settings, **settings})
    _match_the_primary_on_standbys(deployment)


# A hot standby refuses to start (or pauses recovery) when one of these is below the
# primary's value: PostgreSQL 15 documentation, 27.4.5 "Hot Standby Administrator's
# Overview" (max_connections, max_prepared_transactions, max_locks_per_transaction,
# max_wal_senders, max_worker_processes). The two sized here follow the primary; the
# others keep PostgreSQL's defaults on every member, and max_wal_senders is the primary's
# on its replicas (context.services).
STANDBY_AT_LEAST_PRIMARY = ("max_connections", "max_worker_processes")
HOT_STANDBY_DOCS = "PostgreSQL 15 docs, 27.4.5: a hot standby needs at least the primary's value"


def _match_the_primary_on_standbys(deployment: DeploymentSizing) -> None:
    """Raise each replica's STANDBY_AT_LEAST_PRIMARY settings to the primary's where its own
    hardware derives less (a smaller replica), so it can run as a hot standby."""
    primary = deployment.topology.first(Role.database)
    if primary is None or deployment.hosts[primary.name].postgresql is None:
        return
    ours = deployment.hosts[primary.name].postgresql
    for replica in deployment.topology.with_role(Role.database_replica):
        settings = deployment.hosts[replica.name].postgresql.settings
        for name in STANDBY_AT_LEAST_PRIMARY:  # max_connections is already (see above)
            theirs = ours.settings[name]
            # An override below the primary's is refused by profiles validate.
            if settings[name].derived is None and settings[name].value < theirs.value:
                settings[name] = Derived(theirs.value, f"the primary's ({primary.name}; "
                                         f"{theirs.formula}), above this host's "
                                         f"{settings[name].value}", HOT_STANDBY_DOCS)


def _size_load_balancer(deployment: DeploymentSizing) -> None:
    web = [
        (h.name, h.address, paths.GUNICORN_PORT, h.hardware.cpu_cores)
        for h in deployment.topology.with_role(Role.web)
    ]
    for sizing in deployment.hosts.values():
        if sizing.host.has(Role.load_balancer):
            cores = sizing.shares[Role.load_balancer].cores.value
            sizing.nginx = pin_fields(size_nginx(
                max(1.0, cores), deployment.profile.peak_concurrent_users, web
            ), "nginx", sizing.overrides)
