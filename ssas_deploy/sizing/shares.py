"""How a host's cores and RAM are split between the services that run on it.

A dedicated host gives a service everything but the OS reserve. On a shared host each
service gets a weighted share, so e.g. gunicorn on the all-in-one small server does not
size itself as if PostgreSQL, Redis and Celery were not there (seed errata #3).
"""

from dataclasses import dataclass

from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.derived import GIB, Derived, gib

# Relative claims on a shared host. PostgreSQL and the Python processes dominate; nginx and
# the Redis broker are light. Replicas and shards are PostgreSQL too.
CPU_WEIGHT = {
    Role.database: 2.0,
    Role.database_replica: 2.0,
    Role.database_shard: 2.0,
    Role.backup: 0.5,
    Role.web: 3.0,
    Role.celery_worker: 2.0,
    Role.redis_cache: 0.5,
    Role.redis_broker: 0.5,
    Role.load_balancer: 0.5,
}
RAM_WEIGHT = {
    Role.database: 4.0,
    Role.database_replica: 4.0,
    Role.database_shard: 4.0,
    Role.backup: 0.5,
    Role.web: 3.0,
    Role.celery_worker: 3.0,
    Role.redis_cache: 1.0,
    Role.redis_broker: 0.5,
    Role.load_balancer: 0.25,
}
OS_RESERVE_FRACTION = 0.10
OS_RESERVE_MIN_KB = GIB // 2
OS_RESERVE_MAX_KB = 2 * GIB


@dataclass(frozen=True)
class Share:
    cores: Derived  # float cores
    ram_kb: Derived  # int kB


def os_reserve_kb(ram_kb: int) -> int:
    return int(min(max(ram_kb * OS_RESERVE_FRACTION, OS_RESERVE_MIN_KB), OS_RESERVE_MAX_KB))


def share_of(role: Role, roles: frozenset[Role], cpu_cores: int, ram_gib: float) -> Share:
    ram_kb = int(ram_gib * GIB)
    reserve = os_reserve_kb(ram_kb)
    usable = ram_kb - reserve
    base = f"({gib(ram_kb)} RAM - {gib(reserve)} OS reserve)"
    if len(roles) == 1:
        return Share(
            cores=Derived(float(cpu_cores), f"{cpu_cores} cores", "dedicated host"),
            ram_kb=Derived(usable, base, "dedicated host"),
        )
    cpu_total = sum(CPU_WEIGHT[r] for r in roles)
    ram_total = sum(RAM_WEIGHT[r] for r in roles)
    cores = round(cpu_cores * CPU_WEIGHT[role] / cpu_total, 2)
    ram = int(usable * RAM_WEIGHT[role] / ram_total)
    others = ", ".join(sorted(r.value for r in roles if r is not role))
    why = f"shared host: weighted share beside {others}"
    return Share(
        cores=Derived(
            cores, f"{cpu_cores} cores x {CPU_WEIGHT[role]:g}/{cpu_total:g}", why
        ),
        ram_kb=Derived(ram, f"{base} x {RAM_WEIGHT[role]:g}/{ram_total:g} = {gib(ram)}", why),
    )
