"""Checks of a profile's `overrides:`, each problem at the override's own line."""

from collections.abc import Callable

from ssas_deploy.errors import Problem
from ssas_deploy.profiles.models import Profile, Role
from ssas_deploy.profiles.yaml_source import FieldPath

ProblemAt = Callable[[FieldPath, str], Problem]


def check_override_values(profile: Profile, problem: ProblemAt,
                          errors: list[Problem]) -> None:
    """Each key names a known derived value (did-you-mean otherwise) and a dedicated host
    group when it has one; each value is of that value's kind (the accepted form named)."""
    from ssas_deploy.sizing.overrides import read_overrides

    _valid, refused = read_overrides(profile)
    for key, message in refused:
        errors.append(problem(("overrides", key), message))


def check_override_hosts(profile: Profile, problem: ProblemAt, errors: list[Problem]) -> None:
    """Each override applies on some host (a value sizing derives there: autovacuum_* only
    on 16+ cores, celery.all only on a share under 2 cores...), and a replica's
    max_connections and max_worker_processes are not set below the primary's (a hot
    standby refuses to start then). Needs a profile whose other checks passed."""
    from ssas_deploy.sizing.overrides import read_overrides
    from ssas_deploy.sizing.plan import STANDBY_AT_LEAST_PRIMARY, size_deployment
    from ssas_deploy.topology import build_topology

    overrides, _refused = read_overrides(profile)
    if not overrides:
        return
    topology = build_topology(profile)
    sizing = size_deployment(profile, topology)
    derived_on: dict[str, set[Role]] = {}
    for host in topology.hosts:
        for section, settings in sizing.hosts[host.name].explained().items():
            for setting in settings:
                derived_on.setdefault(f"{section}.{setting}", set()).add(host.group)
    for o in overrides:
        groups = derived_on.get(o.name, set())
        if o.group in groups or (o.group is None and groups):
            continue
        scope = f"no host of hosts.{o.group.value}" if o.group else "no host of this profile"
        where = f" (derived on: {', '.join(sorted(g.value for g in groups))})" if groups else ""
        errors.append(problem(("overrides", o.key), f"{scope} derives {o.name}{where}"))
    _check_connection_demand(sizing, problem, errors)
    _check_memory_budget(sizing, problem, errors)
    primary = topology.first(Role.database)
    replicas = topology.with_role(Role.database_replica)
    if primary is None or not replicas:
        return
    ours = sizing.hosts[primary.name].postgresql.settings
    blamed: set[str] = set()
    for replica in replicas:
        theirs = sizing.hosts[replica.name].postgresql.settings
        for name in STANDBY_AT_LEAST_PRIMARY:
            pin = sizing.hosts[replica.name].overrides.get(f"postgresql.{name}")
            if pin is None or pin.key in blamed or theirs[name].value >= ours[name].value:
                continue
            blamed.add(pin.key)
            errors.append(problem(("overrides", pin.key), (
                f"{theirs[name].value} on the replicas is below the primary's "
                f"{ours[name].value} ({primary.name}): a hot standby needs at least the "
                "primary's value (PostgreSQL 15 docs, 27.4.5)")))


def _check_connection_demand(sizing, problem: ProblemAt, errors: list[Problem]) -> None:
    """An overridden connection limit holds what connects: PostgreSQL's max_connections the
    app's pools (or PgBouncer's server pool and reserve) plus the superuser's reserved
    slots, PgBouncer's max_client_conn every app connection. Below that, connections are
    refused under load."""
    from ssas_deploy.sizing.postgresql import SUPERUSER_RESERVED

    clients = sizing.db_clients()
    app_total = sum(n for _, n in clients)
    blamed: set[str] = set()
    for host_sizing in sizing.hosts.values():
        pg, pgb = host_sizing.postgresql, host_sizing.pgbouncer
        pin = host_sizing.overrides.get("postgresql.max_connections")
        if pg is not None and pin is not None and pin.key not in blamed:
            if pgb is not None:
                need = pgb.default_pool_size.value + pgb.reserve_pool_size.value
                what = f"PgBouncer's pool {pgb.default_pool_size.value} + reserve " \
                       f"{pgb.reserve_pool_size.value}"
            else:
                need, what = app_total, f"the app's {app_total} persistent connections"
            need += SUPERUSER_RESERVED
            if pg.value("max_connections") < need:
                blamed.add(pin.key)
                errors.append(problem(("overrides", pin.key), (
                    f"{pg.value('max_connections')} is below the {need} connections that "
                    f"reach {host_sizing.host.name} ({what} + {SUPERUSER_RESERVED} reserved "
                    f"for superusers); at least {need}")))
        pin = host_sizing.overrides.get("pgbouncer.max_client_conn")
        if pgb is not None and pin is not None and pin.key not in blamed \
                and pgb.max_client_conn.value < app_total:
            blamed.add(pin.key)
            errors.append(problem(("overrides", pin.key), (
                f"{pgb.max_client_conn.value} is below the {app_total} connections the app "
                f"opens ({', '.join(f'{n} {who}' for who, n in clients)}); at least "
                f"{app_total}")))


_UNIT_KB = {"k": 1, "m": 1024, "g": 1024 ** 2, "t": 1024 ** 3}


def _size_kb(text: str) -> int:
    """kB of a PostgreSQL size (16MB) or a Redis one (512mb): both count 1024 per unit."""
    digits = text.rstrip("bBkKmMgGtT")
    return int(digits) * _UNIT_KB[text[len(digits)].lower()]


def _check_memory_budget(sizing, problem: ProblemAt, errors: list[Problem]) -> None:
    """An overridden memory size or process count fits in the RAM share sizing gives that
    service on the host (the same shares the hardware check uses): shared_buffers within
    PostgreSQL's R, maxmemory within Redis's share, gunicorn workers and Celery children at
    their resident sizes within theirs."""
    from ssas_deploy.profiles.models import Role
    from ssas_deploy.sizing.celery import CHILD_RSS_KB
    from ssas_deploy.sizing.derived import gib
    from ssas_deploy.sizing.gunicorn import WORKER_RSS_KB

    blamed: set[str] = set()

    def over(pin, needs_kb: int, share, what: str, host) -> None:
        if pin is None or pin.key in blamed or needs_kb <= share.ram_kb.value:
            return
        blamed.add(pin.key)
        errors.append(problem(("overrides", pin.key), (
            f"{what} needs {gib(needs_kb)}, more than the {gib(share.ram_kb.value)} this "
            f"service may use on {host.name} = {share.ram_kb.formula}")))

    for hs in sizing.hosts.values():
        host, pins = hs.host, hs.overrides
        database = next((r for r in (Role.database, Role.database_replica,
                                     Role.database_shard) if host.has(r)), None)
        if hs.postgresql is not None and database is not None:
            value = hs.postgresql.value("shared_buffers")
            over(pins.get("postgresql.shared_buffers"), _size_kb(value), hs.shares[database],
                 f"shared_buffers {value}", host)
        for kind, role in (("cache", Role.redis_cache), ("broker", Role.redis_broker)):
            redis = (hs.redis or {}).get(kind)
            if redis is not None:
                over(pins.get(f"redis_{kind}.maxmemory"), _size_kb(redis.maxmemory.value),
                     hs.shares[role], f"maxmemory {redis.maxmemory.value}", host)
        if hs.gunicorn is not None:
            workers = hs.gunicorn.workers.value
            over(pins.get("gunicorn.workers"), workers * WORKER_RSS_KB, hs.shares[Role.web],
                 f"{workers} gunicorn workers x {gib(WORKER_RSS_KB)}", host)
        groups = hs.celery_groups or []
        children = sum(g.concurrency.value for g in groups)
        pin = next((pins.get(f"celery.{g.name}.concurrency") for g in groups
                    if f"celery.{g.name}.concurrency" in pins), None)
        if groups:
            over(pin, children * CHILD_RSS_KB, hs.shares[Role.celery_worker],
                 f"{children} Celery children x {gib(CHILD_RSS_KB)}", host)
