"""The least RAM each service needs on its host, and the least host RAM that gives it that.

Every setting is derived from a service's share of its host (shares.py). Below these
floors a derived value stops working: PostgreSQL refuses `maintenance_work_mem` under
1 MB and `shared_buffers` under 128 kB (a 0.5 GiB host gave it 0 kB), gunicorn and Celery
would run no process at all, and Redis's 64 MB `maxmemory` floor would be more than its
share. `profiles validate` refuses such hardware and names the least RAM that works. The
floors are the sizing's own per-process figures (gunicorn WORKER_RSS_KB, Celery
CHILD_RSS_KB) and the daemons' documented minimums, with headroom.
"""

from dataclasses import dataclass

from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.celery import CHILD_RSS_KB
from ssas_deploy.sizing.derived import MIB
from ssas_deploy.sizing.gunicorn import WORKER_RSS_KB
from ssas_deploy.sizing.shares import share_of

RAM_STEP_GIB = 0.5  # the schema's smallest ram_gib, and the step of the suggestion
MAX_RAM_GIB = 4096


@dataclass(frozen=True)
class Floor:
    kb: int
    why: str


_POSTGRESQL = Floor(256 * MIB, "PostgreSQL: shared_buffers 64 MiB, maintenance_work_mem "
                               "16 MiB (it refuses under 128 kB and 1 MB)")
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


def short_services(roles: frozenset[Role], ram_gib: float) -> list[tuple[Role, int, Floor]]:
    """[(role, its share in kB, its floor)] for each role on a host of `ram_gib` GiB whose
    share (after the OS reserve and the other roles' weights) is under its floor."""
    short = []
    for role in sorted(roles, key=lambda r: r.value):
        share = share_of(role, roles, 1, ram_gib).ram_kb.value
        if share < MIN_SHARE[role].kb:
            short.append((role, share, MIN_SHARE[role]))
    return short


def least_ram_gib(roles: frozenset[Role]) -> float:
    """The least host RAM (GiB, in RAM_STEP_GIB steps) at which no role is under its floor.

    Shares grow with RAM (the OS reserve is capped), so the first step that passes is the
    least. Raises ValueError if none up to MAX_RAM_GIB does (a floor table error).
    """
    ram = RAM_STEP_GIB
    while ram <= MAX_RAM_GIB:
        if not short_services(roles, ram):
            return ram
        ram += RAM_STEP_GIB
    raise ValueError(f"no RAM up to {MAX_RAM_GIB} GiB satisfies {sorted(roles)}")
