"""Every derived value a profile's `overrides:` may set, by the name `plan --explain` shows
(section.setting), with the kind of value it takes.

A name is here only if sizing derives it on some host (tests/unit/test_overrides.py holds
the two together); nginx's upstream weights are a list of backends, not one value, and are
left out.
"""

from ssas_deploy.sizing.nginx import MAX_WORKER_CONNECTIONS
from ssas_deploy.sizing.override_kinds import (
    NGINX_RATE,
    NGINX_TIME,
    REDIS_SAVE,
    REDIS_SIZE,
    Kind,
    choice,
    integer,
    number,
    pg_size,
)

# PostgreSQL 15's ranges (guc.c; MAX_BACKENDS 0x3FFFF; MAX_KILOBYTES INT_MAX kB; 8 kB
# blocks): outside them the server refuses to start. max_connections must also exceed
# superuser_reserved_connections (3).
MAX_BACKENDS = 0x3FFFF
MAX_KILOBYTES = 2**31 - 1
_BLOCK_KB = 8
_POSTGRESQL: dict[str, Kind] = {
    "max_connections": integer(4, MAX_BACKENDS),
    "shared_buffers": pg_size(16 * _BLOCK_KB, (2**31 - 1) // 2 * _BLOCK_KB),
    "effective_cache_size": pg_size(_BLOCK_KB, (2**31 - 1) * _BLOCK_KB),
    "maintenance_work_mem": pg_size(1024, MAX_KILOBYTES),
    "wal_buffers": pg_size(4 * _BLOCK_KB, (2**31 - 1) // _BLOCK_KB // 1024 * _BLOCK_KB),
    # At least two 16 MB WAL segments.
    "min_wal_size": pg_size(32 * 1024, MAX_KILOBYTES),
    "max_wal_size": pg_size(32 * 1024, MAX_KILOBYTES),
    "checkpoint_completion_target": number(0, 1),
    "default_statistics_target": integer(1, 10000),
    "random_page_cost": number(0),
    "effective_io_concurrency": integer(0, 1000),
    "max_worker_processes": integer(0, MAX_BACKENDS),
    "max_parallel_workers_per_gather": integer(0, 1024),
    "max_parallel_workers": integer(0, 1024),
    "max_parallel_maintenance_workers": integer(0, 1024),
    "work_mem": pg_size(64, MAX_KILOBYTES),
    "huge_pages": choice("try", "on", "off", true="on", false="off"),
    "jit": choice("on", "off", true="on", false="off"),
    "wal_compression": choice("lz4", "pglz", "zstd", "on", "off", true="on", false="off"),
    "autovacuum_max_workers": integer(1, MAX_BACKENDS),
    "autovacuum_work_mem": pg_size(1024, MAX_KILOBYTES),
}
_PGBOUNCER = {
    "default_pool_size": integer(1),
    "reserve_pool_size": integer(0),
    "max_client_conn": integer(1),
}
_GUNICORN = {
    "workers": integer(1),
    "threads": integer(1),
    "timeout": integer(1),
    "graceful_timeout": integer(1),
    "keepalive": integer(0),
    "max_requests": integer(0),
    "max_requests_jitter": integer(0),
}
# The worker groups sizing.celery makes: "all" on a share under 2 cores, else the others.
CELERY_GROUPS = ("all", "ml-heavy", "ml-fast", "reports")
_CELERY = {"concurrency": integer(1), "TimeoutStopSec": integer(1)}
_REDIS = {
    "maxmemory": REDIS_SIZE,
    "maxmemory_policy": choice("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
                               "volatile-lru", "volatile-lfu", "volatile-random",
                               "volatile-ttl"),
    "appendonly": choice("yes", "no", true="yes", false="no"),
    "save": REDIS_SAVE,
}
_NGINX = {
    "worker_processes": integer(1),
    "worker_connections": integer(1, MAX_WORKER_CONNECTIONS),
    "worker_rlimit_nofile": integer(1, 2 * MAX_WORKER_CONNECTIONS),
    "upstream_keepalive": integer(1),
    "api_rate": NGINX_RATE,
    "api_burst": integer(0),
    "ml_rate": NGINX_RATE,
    "ml_burst": integer(0),
    "login_rate": NGINX_RATE,
    "login_burst": integer(0),
    "ml_read_timeout": NGINX_TIME,
    "api_read_timeout": NGINX_TIME,
}


def _catalogue() -> dict[str, Kind]:
    sections: dict[str, dict[str, Kind]] = {
        "postgresql": _POSTGRESQL, "pgbouncer": _PGBOUNCER, "gunicorn": _GUNICORN,
        **{f"celery.{group}": _CELERY for group in CELERY_GROUPS},
        "redis_cache": _REDIS, "redis_broker": _REDIS, "nginx": _NGINX,
    }
    return {f"{section}.{name}": kind
            for section, settings in sections.items() for name, kind in settings.items()}


# "section.setting" -> Kind, e.g. "postgresql.work_mem" -> PG_SIZE.
OVERRIDABLE: dict[str, Kind] = _catalogue()
