"""Two Redis instances with opposite policies (seed errata #16): a cache and a broker."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import MIB, Derived, fixed, gib
from ssas_deploy.sizing.shares import Share

CACHE_PORT = 6379
BROKER_PORT = 6380
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class RedisSizing:
    kind: str  # "cache" or "broker"
    port: int
    maxmemory: Derived
    maxmemory_policy: Derived
    appendonly: Derived
    save: Derived


def size_redis(kind: str, share: Share) -> RedisSizing:
    ram = share.ram_kb.value
    if kind == "cache":
        limit_mb = max(64, int(ram * 0.75) // MIB)
        return RedisSizing(
            kind,
            CACHE_PORT,
            Derived(f"{limit_mb}mb", f"75% of {gib(ram)} ({share.ram_kb.formula})",
                    "cache: no persistence, headroom for fragmentation"),
            fixed("allkeys-lru", "a cache may evict any key; the least recently used go first"),
            fixed("no", "cache contents can be rebuilt"),
            fixed('""', "no snapshots for a cache"),
        )
    limit_mb = max(64, int(ram * 0.5) // MIB)
    return RedisSizing(
        kind,
        BROKER_PORT,
        Derived(f"{limit_mb}mb", f"50% of {gib(ram)} ({share.ram_kb.formula})",
                "broker: half kept free for the copy-on-write fork of AOF rewrites"),
        fixed("noeviction", "a broker must never drop queued tasks; it refuses writes instead"),
        fixed("yes", "queued tasks survive a restart (AOF, fsync every second)"),
        fixed('""', "AOF is the persistence; no RDB snapshots"),
    )
