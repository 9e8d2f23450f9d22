"""Checks that span several profile fields. Each problem names the field to change."""

from ssas_deploy.errors import Problem
from ssas_deploy.profiles.models import Colocated, HostSpec, Profile, Role
from ssas_deploy.profiles.override_checks import check_override_hosts, check_override_values
from ssas_deploy.profiles.tiers import TIER_RANGES, describe
from ssas_deploy.profiles.yaml_source import FieldPath, SourcedDocument


def cross_check(profile: Profile, doc: SourcedDocument) -> tuple[list[Problem], list[Problem]]:
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def problem(path: FieldPath, message: str) -> Problem:
        file, line = doc.where(path)
        return Problem(file, line, ".".join(str(p) for p in path), message)

    _check_tier_ranges(profile, problem, warnings)
    _check_colocation(profile, problem, errors)
    _check_required_roles(profile, problem, errors)
    _check_single_server_features(profile, problem, errors)
    _check_high_availability(profile, problem, errors)
    _check_backup(profile, problem, warnings)
    _check_mail(profile, problem, errors, warnings)
    check_override_values(profile, problem, errors)
    if not errors:  # shares need a valid colocation
        check_override_hosts(profile, problem, errors)
    if not errors:  # the RAM floors count the overridden max_connections
        _check_ram_floors(profile, problem, errors)
    return errors, warnings


# Overrides that change how many connections reach a database host.
CONNECTION_OVERRIDES = frozenset({
    "postgresql.max_connections", "gunicorn.workers", "gunicorn.threads",
    "pgbouncer.default_pool_size", "pgbouncer.reserve_pool_size",
    *(f"celery.{group}.concurrency" for group in ("all", "ml-heavy", "ml-fast", "reports")),
})


def _check_ram_floors(profile: Profile, problem, errors: list[Problem]) -> None:
    """Each host group's RAM against its services' floors (sizing/minimums.py), the
    database's connections included, naming the least RAM that works."""
    # Imported here: sizing imports the profile models, which import this module's package.
    from ssas_deploy.sizing.derived import gib
    from ssas_deploy.sizing.minimums import (
        MAX_RAM_GIB,
        MIN_SHARE,
        least_ram_gib,
        short_services,
    )
    from ssas_deploy.sizing.plan import size_deployment
    from ssas_deploy.topology import build_topology

    topology = build_topology(profile)
    sizing = size_deployment(profile, topology)
    pooled = profile.database.pooler == "pgbouncer"
    seen: set[Role] = set()
    for host in topology.hosts:
        if host.group in seen:
            continue
        seen.add(host.group)
        pg = sizing.hosts[host.name].postgresql
        conns = pg.value("max_connections") if pg else 0
        short = short_services(host.roles, host.hardware.ram_gib, conns)
        if not short:
            continue
        try:
            hint = f"at least {least_ram_gib(host.roles, conns):g} GiB works for this host"
        except ValueError:
            hint = f"not even the schema's {MAX_RAM_GIB} GiB works"
        if conns and not pooled and any(f.kb > MIN_SHARE[r].kb for r, _, f in short):
            hint += " (or database.pooler: pgbouncer, which caps the server connections)"
        reasons = "; ".join(f"{role.value} would get {gib(share)}, needs {gib(floor.kb)} "
                            f"({floor.why})" for role, share, floor in short)
        # The connections may come from overrides elsewhere in the profile: name them, so the
        # message does not point only at a built-in file the user never edits.
        pins = sizing.hosts[host.name].overrides
        raised = sorted(f"{o.key} ({o.where})" for name, o in pins.items()
                        if name in CONNECTION_OVERRIDES)
        if conns and raised:
            hint += f"; or lower the overrides that raise its connections: {', '.join(raised)}"
        errors.append(problem(("hosts", host.group.value, "ram_gib"),
                              f"{host.hardware.ram_gib:g} GiB is too little: {reasons}; "
                              f"{hint}"))


def _check_tier_ranges(profile: Profile, problem, warnings: list[Problem]) -> None:
    bounds = TIER_RANGES[profile.tier]
    tier = profile.tier.value
    if not _within(profile.students, bounds.students_min, bounds.students_max):
        span = describe(bounds.students_min, bounds.students_max)
        warnings.append(
            problem(("students",), f"{profile.students:,} is outside the {tier} tier ({span})")
        )
    if not _within(profile.peak_concurrent_users, bounds.peak_min, bounds.peak_max):
        span = describe(bounds.peak_min, bounds.peak_max)
        warnings.append(
            problem(
                ("peak_concurrent_users",),
                f"{profile.peak_concurrent_users:,} is outside the {tier} tier ({span})",
            )
        )


def _within(value: int, low: int, high: int | None) -> bool:
    return value >= low and (high is None or value <= high)


def _check_colocation(profile: Profile, problem, errors: list[Problem]) -> None:
    for role in Role:
        spec = profile.hosts.spec(role)
        if not isinstance(spec, Colocated):
            continue
        where = ("hosts", role.value, "colocate")
        target = profile.hosts.spec(spec.colocate)
        if spec.colocate is role:
            errors.append(problem(where, "a role cannot be colocated with itself"))
        elif spec.colocate is Role.backup:
            errors.append(problem(where, "the backup host keeps only backups (a service on it "
                                         "would be lost with the data it protects)"))
        elif target is None:
            errors.append(problem(where, f"'{spec.colocate.value}' has no hosts in this profile"))
        elif isinstance(target, Colocated):
            errors.append(
                problem(
                    where,
                    f"'{spec.colocate.value}' is itself colocated; "
                    f"use '{target.colocate.value}' instead",
                )
            )
        elif target.count != 1:
            errors.append(
                problem(
                    where,
                    f"'{spec.colocate.value}' has {target.count} hosts; "
                    "a role can only share a single host",
                )
            )


def _check_required_roles(profile: Profile, problem, errors: list[Problem]) -> None:
    hosts = profile.hosts
    postgres = profile.database.engine == "postgresql"
    web = hosts.web
    if isinstance(web, HostSpec) and web.count > 1 and hosts.load_balancer is None:
        errors.append(
            problem(("hosts", "web", "count"), "several web servers need a load_balancer")
        )
    if postgres and hosts.database is None:
        errors.append(problem(("hosts",), "database engine postgresql needs hosts.database"))
    if hosts.celery_worker is None:
        errors.append(
            problem(("hosts",), "hosts.celery_worker is required (batch analysis runs on Celery)")
        )
    if hosts.redis_broker is None:
        errors.append(problem(("hosts",), "hosts.redis_broker is required (Celery's broker)"))
    if profile.cache == "redis" and hosts.redis_cache is None:
        errors.append(problem(("cache",), "cache 'redis' needs hosts.redis_cache"))
    if profile.cache == "local" and hosts.redis_cache is not None:
        errors.append(
            problem(("hosts", "redis_cache"), "cache is 'local': remove hosts.redis_cache")
        )
    for role in (Role.database_replica, Role.database_shard):
        if hosts.spec(role) is not None and not postgres:
            errors.append(problem(("hosts", role.value), "needs database engine postgresql"))
    if profile.database.pooler == "pgbouncer" and not postgres:
        errors.append(problem(("database", "pooler"), "pgbouncer needs engine postgresql"))


def _check_high_availability(profile: Profile, problem, errors: list[Problem]) -> None:
    """The primary and its replicas are one Patroni cluster with etcd on three of them
    (context.patroni): a quorum that survives a lost host needs three members."""
    replicas = profile.hosts.database_replica
    count = replicas.count if isinstance(replicas, HostSpec) else 0
    if count == 1:
        errors.append(problem(("hosts", "database_replica", "count"),
                              "1 replica makes a 2-member Patroni cluster, and etcd's quorum "
                              "needs 3 members to survive a lost host: set 2 or more"))
    if profile.database.synchronous_replication and count == 0:
        errors.append(problem(("database", "synchronous_replication"),
                              "needs hosts.database_replica (a standby a commit waits for)"))
    # A Redis group of several hosts runs a Sentinel on each (context.services): a failover
    # needs a majority of them, which two Sentinels lose with either host.
    for role in (Role.redis_cache, Role.redis_broker):
        spec = profile.hosts.spec(role)
        if isinstance(spec, HostSpec) and spec.count == 2:
            errors.append(problem(("hosts", role.value, "count"),
                                  "2 hosts run 2 Sentinels, and a failover needs a majority "
                                  "of them: losing either host leaves 1 of 2, so the other "
                                  "is never promoted. Set 3 (Sentinel quorum 2) or 1 (no "
                                  "failover)"))


def _dedicated_host_count(profile: Profile) -> int:
    """Servers that run the service; the backup storage host does not count (it is the
    school's NAS or second server on the single-server tiers too)."""
    return sum(
        spec.count
        for role in Role
        if role is not Role.backup and isinstance(spec := profile.hosts.spec(role), HostSpec)
    )


def _check_backup(profile: Profile, problem, warnings: list[Problem]) -> None:
    if "backup_retention_days" in profile.database.model_fields_set:
        warnings.append(problem(("database", "backup_retention_days"),
                                "deprecated and ignored: set backup.full_retention "
                                "(full backups kept) instead"))
    if profile.hosts.backup is None:
        warnings.append(problem(("hosts",), "no hosts.backup: nothing is backed up off the "
                                            "servers (add the school's backup storage host)"))


def _check_mail(profile: Profile, problem, errors: list[Problem],
                warnings: list[Problem]) -> None:
    mail = profile.mail
    if not mail.smtp_host:
        for field in ("username", "smtp_port"):
            if field in mail.model_fields_set:
                errors.append(problem(("mail", field), "needs mail.smtp_host (without a "
                                                       "relay, mails are written as files)"))
    elif mail.security == "none" and mail.username:
        warnings.append(problem(("mail", "security"), "none: the relay password crosses the "
                                                      "network in clear text"))


def _check_single_server_features(profile: Profile, problem, errors: list[Problem]) -> None:
    servers = _dedicated_host_count(profile)
    if servers == 1:
        return
    if profile.database.engine == "sqlite":
        errors.append(
            problem(
                ("database", "engine"),
                f"sqlite needs a single server, but the profile has {servers} hosts",
            )
        )
    if profile.cache == "local":
        errors.append(
            problem(
                ("cache",),
                f"a local cache needs a single server, but the profile has {servers} hosts",
            )
        )
