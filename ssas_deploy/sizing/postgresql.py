"""PostgreSQL settings for one database host: PGTune's "web application" formulas.

R is the RAM PostgreSQL may use on that host (its share, OS reserve removed), never a
fixed 16 GB (seed errata #6, #7).
"""

import math
from dataclasses import dataclass

from ssas_deploy.sizing.derived import GIB, MIB, Derived, fixed, gib, pg_size
from ssas_deploy.sizing.shares import Share

PGTUNE = "PGTune (web application)"
SUPERUSER_RESERVED = 3
ADMIN_HEADROOM = 10  # psql sessions, pg_dump, monitoring


@dataclass(frozen=True)
class PostgresSizing:
    settings: dict[str, Derived]

    def value(self, name: str):
        return self.settings[name].value


def connections(clients: list[tuple[str, int]], pooled: bool) -> Derived:
    """max_connections from the pools that really connect, plus headroom."""
    total = sum(n for _, n in clients)
    parts = " + ".join(f"{n} ({who})" for who, n in clients) or "0"
    value = total + SUPERUSER_RESERVED + ADMIN_HEADROOM
    source = (
        "PgBouncer's server pool plus reserve" if pooled
        else "every gunicorn thread and Celery child keeps one persistent connection"
    )
    return Derived(
        value,
        f"{parts} + {SUPERUSER_RESERVED} superuser reserved + {ADMIN_HEADROOM} admin headroom",
        source,
    )


def size_postgresql(share: Share, cores: int, storage: str, max_conn: Derived) -> PostgresSizing:
    ram = share.ram_kb.value
    where = f"R = {gib(ram)}: {share.ram_kb.formula}"
    s: dict[str, Derived] = {}
    s["max_connections"] = max_conn
    shared_buffers = ram // 4
    s["shared_buffers"] = Derived(pg_size(shared_buffers), f"R / 4; {where}", PGTUNE)
    s["effective_cache_size"] = Derived(pg_size(ram * 3 // 4), "3R / 4", PGTUNE)
    maintenance = min(ram // 16, 2 * GIB)
    s["maintenance_work_mem"] = Derived(pg_size(maintenance), "min(R / 16, 2 GB)", PGTUNE)
    wal_buffers = _wal_buffers(shared_buffers)
    s["wal_buffers"] = Derived(
        pg_size(wal_buffers), "3% of shared_buffers, 32 kB..16 MB", PGTUNE
    )
    s["min_wal_size"] = fixed("1GB", PGTUNE)
    s["max_wal_size"] = fixed("4GB", PGTUNE)
    s["checkpoint_completion_target"] = fixed(0.9, PGTUNE)
    s["default_statistics_target"] = fixed(100, PGTUNE)
    ssd = storage == "ssd"
    s["random_page_cost"] = Derived(1.1 if ssd else 4.0, f"{storage} storage", PGTUNE)
    s["effective_io_concurrency"] = Derived(200 if ssd else 2, f"{storage} storage", PGTUNE)
    workers = _parallel(cores)
    s.update(workers)
    worker_processes = workers["max_worker_processes"].value
    n = max_conn.value
    work_mem = max(64, (ram - shared_buffers) // ((n + worker_processes) * 3))
    s["work_mem"] = Derived(
        pg_size(work_mem),
        f"(R - R/4) / ((max_connections {n} + max_worker_processes {worker_processes}) x 3)"
        f" = {work_mem} kB",
        f"{PGTUNE}; per sort/hash node per connection, so it shrinks as connections grow",
    )
    return PostgresSizing(s)


def _wal_buffers(shared_buffers_kb: int) -> int:
    value = shared_buffers_kb * 3 // 100
    if value > 14 * MIB:  # PGTune rounds near-16MB values up to the WAL segment size
        return 16 * MIB
    return max(value, 32)


def _parallel(cores: int) -> dict[str, Derived]:
    if cores < 4:
        return {"max_worker_processes": fixed(8, "PostgreSQL default; under 4 cores PGTune "
                                                 "leaves parallelism alone")}
    per_gather = min(math.ceil(cores / 2), 4)
    return {
        "max_worker_processes": Derived(cores, f"{cores} cores", PGTUNE),
        "max_parallel_workers_per_gather": Derived(
            per_gather, f"min(ceil({cores} / 2), 4)", PGTUNE
        ),
        "max_parallel_workers": Derived(cores, f"{cores} cores", PGTUNE),
        "max_parallel_maintenance_workers": Derived(
            per_gather, f"min(ceil({cores} / 2), 4)", PGTUNE
        ),
    }
