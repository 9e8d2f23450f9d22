"""PostgreSQL settings for one database host: PGTune's "web application" formulas.

R is the RAM PostgreSQL may use on that host (its share, OS reserve removed), never a
fixed 16 GB (seed errata #6, #7). The formulas follow PGTune's
src/features/configuration/configurationSlice.js at commit 830d3bb3 (2026-06-09,
github.com/le0pard/pgtune) for db type "web", OS Linux, PostgreSQL 15 (Debian 12's, built
--with-lz4), storage ssd or hdd and PGTune's default database size "mid_ram" (no work_mem
or random_page_cost adjustment). PostgreSQL counts memory in kB, as here.
"""

import math
from dataclasses import dataclass

from ssas_deploy.sizing.derived import GIB, MIB, Derived, fixed, gib, pg_size
from ssas_deploy.sizing.shares import Share

PGTUNE = "PGTune (web application, configurationSlice.js @ 830d3bb3)"
PG_VERSION = 15  # Debian 12's; PGTune's version-dependent settings below use it
SUPERUSER_RESERVED = 3
ADMIN_HEADROOM = 10  # psql sessions, pg_dump, monitoring
MAINTENANCE_CAP_KB = 8 * GIB  # PGTune's cap since 2026-04 (was 2 GB)
AUTOVACUUM_WORK_MEM_CAP_KB = 2 * GIB
WORK_MEM_FLOOR_KB = 4 * MIB  # PGTune's floor since 2026-04 (PostgreSQL's own is 64 kB)
HUGE_PAGES_FROM_KB = 2 * GIB  # of shared_buffers


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
    """postgresql.conf tuning for a database share: setting name -> Derived.

    `share.ram_kb` is R in kB, `cores` the host's cores, `storage` "ssd" or "hdd",
    `max_conn` the connections (see `connections`). Memory values are PostgreSQL size
    strings ("333MB"), floored to the unit. Raises nothing; a share under
    minimums.MIN_SHARE (refused by `profiles validate`) would derive values PostgreSQL
    rejects, and PGTune's 4 MB work_mem floor may then exceed R.
    """
    ram = share.ram_kb.value
    where = f"R = {gib(ram)}: {share.ram_kb.formula}"
    s: dict[str, Derived] = {}
    s["max_connections"] = max_conn
    shared_buffers = ram // 4
    s["shared_buffers"] = Derived(pg_size(shared_buffers), f"R / 4; {where}", PGTUNE)
    s["effective_cache_size"] = Derived(pg_size(ram * 3 // 4), "3R / 4", PGTUNE)
    maintenance = min(ram // 16, MAINTENANCE_CAP_KB)
    s["maintenance_work_mem"] = Derived(pg_size(maintenance), "min(R / 16, 8 GB)",
                                        f"{PGTUNE}: 8 GB cap on servers with lots of memory")
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
    work_mem = max(WORK_MEM_FLOOR_KB, (ram - shared_buffers) // ((n + worker_processes) * 3))
    s["work_mem"] = Derived(
        pg_size(work_mem),
        f"max(4 MB, (R - R/4) / ((max_connections {n} + max_worker_processes "
        f"{worker_processes}) x 3)) = {work_mem} kB",
        f"{PGTUNE}; per sort/hash node per connection, so it shrinks as connections grow; "
        "the 4 MB floor keeps simple sorts off disk",
    )
    huge = shared_buffers >= HUGE_PAGES_FROM_KB
    s["huge_pages"] = Derived(
        "try" if huge else "off", f"shared_buffers {gib(shared_buffers)} {'>=' if huge else '<'}"
        " 2 GiB", f"{PGTUNE}: huge pages only pay off for a large shared_buffers")
    s["jit"] = fixed("off", f"{PGTUNE}: for web/OLTP on PostgreSQL 12+ JIT compilation "
                            "costs CPU and planning time on short queries")
    s["wal_compression"] = fixed("lz4", f"{PGTUNE}: PostgreSQL 15+ with lz4 (Debian's "
                                        "packages are built --with-lz4), lighter than pglz")
    s.update(_autovacuum(cores, maintenance))
    return PostgresSizing(s)


def _autovacuum(cores: int, maintenance_kb: int) -> dict[str, Derived]:
    """autovacuum_max_workers above PostgreSQL's 3 on 16+ cores; autovacuum_work_mem capped
    at 2 GB once maintenance_work_mem reaches it (each worker would take it). PGTune omits
    both otherwise, leaving PostgreSQL's defaults (3 workers, -1 = maintenance_work_mem)."""
    out: dict[str, Derived] = {}
    if cores >= 16:
        out["autovacuum_max_workers"] = Derived(
            5 if cores >= 32 else 4, f"{cores} cores ({'>= 32' if cores >= 32 else '>= 16'})",
            f"{PGTUNE}: more vacuum workers only on heavier servers")
    if maintenance_kb >= AUTOVACUUM_WORK_MEM_CAP_KB:
        out["autovacuum_work_mem"] = Derived(
            pg_size(AUTOVACUUM_WORK_MEM_CAP_KB), "2 GB, as maintenance_work_mem >= 2 GB",
            f"{PGTUNE}: every autovacuum worker may take this much")
    return out


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
