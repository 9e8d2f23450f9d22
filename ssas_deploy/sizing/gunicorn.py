"""Gunicorn worker model for one web host, from the cores and RAM the web role gets there."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import MIB, Derived, fixed
from ssas_deploy.sizing.shares import Share

# Resident size of one worker once Django and the scikit-learn models are loaded.
WORKER_RSS_KB = 300 * MIB
THREADS_PER_WORKER = 4
# Must exceed nginx's longest proxy_read_timeout (ML routes) so nginx answers 504 first.
ML_PROXY_READ_TIMEOUT_S = 60


@dataclass(frozen=True)
class GunicornSizing:
    workers: Derived
    threads: Derived
    timeout: Derived
    graceful_timeout: Derived
    keepalive: Derived
    max_requests: Derived
    max_requests_jitter: Derived

    @property
    def db_connections(self) -> int:
        """Each thread keeps one persistent connection per database alias."""
        return self.workers.value * self.threads.value


def size_gunicorn(share: Share) -> GunicornSizing:
    cores = share.cores.value
    by_cpu = int(2 * cores + 1)
    by_ram = max(1, share.ram_kb.value // WORKER_RSS_KB)
    workers = max(2, min(by_cpu, by_ram))
    limiting = "cores" if by_cpu <= by_ram else "RAM"
    return GunicornSizing(
        workers=Derived(
            workers,
            f"max(2, min(2 x {cores:g} cores + 1 = {by_cpu}, "
            f"{share.ram_kb.value // MIB} MiB / {WORKER_RSS_KB // MIB} MiB per worker = {by_ram}))"
            f" -> limited by {limiting}",
            f"gunicorn (2 x cores + 1), capped by this host's share; {share.cores.source}",
        ),
        threads=fixed(
            THREADS_PER_WORKER,
            "gthread: overlaps requests waiting on PostgreSQL/Redis; ML work holds the GIL, "
            "so more threads would not add throughput",
        ),
        timeout=Derived(
            ML_PROXY_READ_TIMEOUT_S + 10,
            f"nginx ML proxy_read_timeout {ML_PROXY_READ_TIMEOUT_S} s + 10 s",
            "nginx answers 504 before gunicorn kills the worker",
        ),
        graceful_timeout=fixed(30, "time for in-flight requests on reload (HUP)"),
        keepalive=fixed(5, "above nginx's upstream keepalive_timeout (4 s) so nginx closes first"),
        max_requests=fixed(1000, "recycle workers to bound memory growth"),
        max_requests_jitter=fixed(100, "spread recycling so workers do not restart together"),
    )
