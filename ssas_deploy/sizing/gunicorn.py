"""Gunicorn worker model for one web host, from the cores and RAM the web role gets there."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import MIB, Derived, fixed
from ssas_deploy.sizing.shares import Share

# Resident size of one worker once Django and the scikit-learn models are loaded.
WORKER_RSS_KB = 300 * MIB
THREADS_PER_WORKER = 4
# Must exceed nginx's longest proxy_read_timeout (ML routes) so nginx answers 504 first.
ML_PROXY_READ_TIMEOUT_S = 60
# An active user at peak: a page and its API calls, about one request every 2 s.
REQUESTS_PER_USER_S = 0.5
# Recycle each worker about hourly at peak: a recycle costs ~1.3 CPU-s (Django and the models
# reloaded; measured on the small tier, where max_requests = 1000 recycled every ~13 s).
RECYCLE_EVERY_S = 3600
MIN_MAX_REQUESTS = 1000


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


def peak_request_rate(peak_users: int, host_cores: int, web_cores: int) -> Derived:
    """Requests per second this web host serves at peak (float): the tier's peak users at
    REQUESTS_PER_USER_S, shared by the web hosts in proportion to their cores (nginx's
    upstream weights). Raises ZeroDivisionError when web_cores is 0."""
    rate = peak_users * REQUESTS_PER_USER_S * host_cores / web_cores
    return Derived(rate, f"{peak_users} peak users x {REQUESTS_PER_USER_S:g} req/s x "
                         f"{host_cores}/{web_cores} of the web cores = {rate:.1f} req/s",
                   "an active user sends about one request every 2 s; nginx weighs web "
                   "servers by cores")


def worker_recycling(workers: int, peak_rps: Derived) -> dict[str, Derived]:
    """max_requests and max_requests_jitter (requests) so each of `workers` recycles about
    every RECYCLE_EVERY_S at the peak rate: bounds memory growth without paying a recycle
    every few seconds. Never below MIN_MAX_REQUESTS; jitter a tenth, so workers started
    together do not restart together."""
    per_worker = peak_rps.value / workers
    requests = max(MIN_MAX_REQUESTS, int(round(per_worker * RECYCLE_EVERY_S, -2)))
    return {
        "max_requests": Derived(
            requests, f"max({MIN_MAX_REQUESTS}, {peak_rps.value:.1f} req/s / {workers} workers"
                      f" x {RECYCLE_EVERY_S} s), to the hundred",
            f"recycle each worker about hourly at peak ({peak_rps.formula}); a recycle "
            "reloads Django and the models (~1.3 CPU-s)"),
        "max_requests_jitter": recycling_jitter(requests),
    }


def recycling_jitter(max_requests: int) -> Derived:
    """max_requests_jitter (requests): a tenth of `max_requests`, so workers started together
    do not restart together (gunicorn adds 0..jitter to each worker's max_requests)."""
    return Derived(max_requests // 10, f"{max_requests} / 10",
                   "spread recycling so workers started together do not restart together")


def size_gunicorn(share: Share, peak_rps: Derived) -> GunicornSizing:
    """Gunicorn's settings for the web role's `share` of a host serving `peak_rps` (Derived
    float, req/s; see peak_request_rate). Workers: gunicorn's 2 x cores + 1 capped by RAM."""
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
        **worker_recycling(workers, peak_rps),
    )
