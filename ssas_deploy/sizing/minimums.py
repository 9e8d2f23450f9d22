"""The least RAM each service needs on its host, and the least host RAM that gives it that.

Every setting is derived from a service's share of its host (shares.py). Below these
floors a derived value stops working: PostgreSQL refuses `maintenance_work_mem` under
1 MB and `shared_buffers` under 128 kB (a 0.5 GiB host gave it 0 kB), gunicorn and Celery
would run no process at all, and Redis's 64 MB `maxmemory` floor would be more than its
share. `profiles validate` refuses such hardware and names the least RAM that works. The
floors are the sizing's own per-process figures (gunicorn WORKER_RSS_KB, Celery
CHILD_RSS_KB) and the daemons' documented minimums, with headroom.

A database share must also hold its connections: every one is a backend process
(CONNECTION_KB each) that PGTune's formulas give the 3R/4 left beside shared_buffers.
"""

from dataclasses import dataclass

from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.celery import CHILD_RSS_KB
from ssas_deploy.sizing.derived import MIB
from ssas_deploy.sizing.gunicorn import WORKER_RSS_KB
from ssas_deploy.sizing.shares import share_of

# One PostgreSQL 15 connection: an idle backend's private memory after its first catalog
# reads (2440 kB Private_Dirty in /proc/<pid>/smaps_rollup, rounded up to 2.5 MiB) plus its
# share of the shared memory (`postgres -C shared_memory_size` grows 46.8 kB per
# max_connections with pg_stat_statements loaded; 48 kB).
CONNECTION_KB = 2560 + 48
RAM_STEP_GIB = 0.5  # the schema's smallest ram_gib, and the step of the suggestion
MAX_RAM_GIB = 4096


@dataclass(frozen=True)
class Floor:
    kb: int
    why: str


_POSTGRESQL = Floor(256 * MIB, "PostgreSQL: shared_buffers 64 MiB, maintenance_work_mem "
                               "16 MiB (it refuses under 128 kB and 1 MB)")
_DATABASE_ROLES = (Role.database, Role.database_replica, Role.database_shard)
MIN_SHARE = {
    Role.database: _POSTGRESQL,
    Role.database_replica: _POSTGRESQL,
    Role.database_shard: _POSTGRESQL,
    Role.web: Floor(WORKER_RSS_KB, "one gunicorn worker"),
    Role.celery_worker: Floor(CHILD_RSS_KB, "one Celery child with the ML models loaded"),
    Role.redis_cache: Floor(64 * MIB, "Redis: the 64 MB maxmemory floor"),
    Role.redis_broker: Floor(64 * MIB, "Redis: the 64 MB maxmemory floor"),
    Role.load_balancer: Floor(16 * MIB, "nginx workers and the 10 MB TLS session cache"),
    Role.backup: Floor(128 * MIB, "pgBackRest and SFTP processes"),
}


def floor_of(role: Role, max_connections: int = 0) -> Floor:
    """The least share (kB) of `role`; for a database role with `max_connections`, also
    those backends (CONNECTION_KB each) within the 3R/4 beside shared_buffers."""
    floor = MIN_SHARE[role]
    if role not in _DATABASE_ROLES or not max_connections:
        return floor
    backends = -(-max_connections * CONNECTION_KB * 4 // 3)
    if backends <= floor.kb:
        return floor
    return Floor(backends, f"PostgreSQL: {max_connections} connections x "
                           f"{CONNECTION_KB / MIB:.2f} MiB each within 3/4 of its share")


def short_services(roles: frozenset[Role], ram_gib: float,
                   max_connections: int = 0) -> list[tuple[Role, int, Floor]]:
    """[(role, its share in kB, its floor)] for each role on a host of `ram_gib` GiB whose
    share (after the OS reserve and the other roles' weights) is under its floor;
    `max_connections` is the database role's, if the host has one."""
    short = []
    for role in sorted(roles, key=lambda r: r.value):
        share = share_of(role, roles, 1, ram_gib).ram_kb.value
        floor = floor_of(role, max_connections)
        if share < floor.kb:
            short.append((role, share, floor))
    return short


def least_ram_gib(roles: frozenset[Role], max_connections: int = 0) -> float:
    """The least host RAM (GiB, in RAM_STEP_GIB steps) at which no role is under its floor.

    Shares grow with RAM (the OS reserve is capped), so the first step that passes is the
    least. Raises ValueError if none up to MAX_RAM_GIB (the schema's largest) does.
    """
    def ok(ram: float) -> bool:
        return not short_services(roles, ram, max_connections)

    if not ok(MAX_RAM_GIB):
        raise ValueError(f"no RAM up to {MAX_RAM_GIB} GiB satisfies {sorted(roles)}")
    low, high = 1, int(MAX_RAM_GIB / RAM_STEP_GIB)  # in steps; ok(high * step) holds
    while low < high:  # the least step that is ok: shares grow with RAM
        mid = (low + high) // 2
        if ok(mid * RAM_STEP_GIB):
            high = mid
        else:
            low = mid + 1
    return low * RAM_STEP_GIB
