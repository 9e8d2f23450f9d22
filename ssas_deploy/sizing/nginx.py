"""nginx on the load balancer: workers, upstream weights, rate limits and timeouts."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import Derived, fixed

# Linux's fs.nr_open default (1024 x 1024): no process may open more files, so nginx's
# setrlimit(RLIMIT_NOFILE) to worker_rlimit_nofile fails above it (an alert at start, the
# workers then keep the unit's limit). worker_connections stays at half, as each proxied
# request holds two descriptors.
NR_OPEN = 1024 * 1024
MAX_WORKER_CONNECTIONS = NR_OPEN // 2


@dataclass(frozen=True)
class NginxSizing:
    worker_processes: Derived
    worker_connections: Derived
    worker_rlimit_nofile: Derived
    upstream_keepalive: Derived
    api_rate: Derived
    api_burst: Derived
    ml_rate: Derived
    ml_burst: Derived
    login_rate: Derived
    login_burst: Derived
    ml_read_timeout: Derived
    api_read_timeout: Derived
    weights: Derived


def size_nginx(cores: float, peak_users: int, web: list[tuple[str, str, int, int]]) -> NginxSizing:
    """nginx sizing for a load balancer share of `cores` (float, >= 1) and the profile's
    peak concurrent users; `web` lists (host, address, port, cores) of each gunicorn
    backend. worker_connections is at most MAX_WORKER_CONNECTIONS (fs.nr_open / 2)."""
    processes = max(1, round(cores))
    login_per_minute = max(30, peak_users // 4)
    # Each user may hold a few browser connections; each proxied one also uses an upstream.
    per_worker = min(MAX_WORKER_CONNECTIONS,
                     max(1024, _round_up(peak_users * 4 // processes, 512)))
    return NginxSizing(
        worker_processes=Derived(processes, f"round({cores:g} cores)", "one worker per core"),
        worker_connections=Derived(
            per_worker,
            f"min({MAX_WORKER_CONNECTIONS}, max(1024, {peak_users} peak users x 4 connections"
            f" / {processes} workers))",
            "client + upstream connection per request, browsers open several; at most half "
            "of Linux's fs.nr_open, as worker_rlimit_nofile is twice this",
        ),
        worker_rlimit_nofile=Derived(per_worker * 2, "2 x worker_connections",
                                     "a proxied request holds two descriptors"),
        upstream_keepalive=Derived(
            max(16, 4 * len(web)), f"max(16, 4 x {len(web)} backends)",
            "idle keepalive connections kept to the app servers",
        ),
        # Keyed on the client address, which a client cannot choose: a school's staff share
        # one NAT address, so the limits are the whole school's; each user's own limits are
        # the app's (DRF throttles on a shared cache).
        api_rate=Derived(f"{max(20, peak_users * 2)}r/s",
                         f"max(20, {peak_users} peak users x 2 r/s)",
                         "per client address, sized for a school behind one NAT address"),
        api_burst=Derived(max(40, peak_users * 4), f"max(40, {peak_users} x 4)",
                          "a page load fans out into several API calls"),
        ml_rate=Derived(f"{max(2, peak_users // 2)}r/s", f"max(2, {peak_users} // 2) r/s",
                        "ML routes are CPU heavy; per client address"),
        ml_burst=Derived(max(5, peak_users), f"max(5, {peak_users})",
                         "a few analyses per user in a row are normal"),
        login_rate=Derived(f"{login_per_minute}r/m",
                           f"max(30, {peak_users} peak users // 4) per minute",
                           "sign-in attempts per address: with the burst, a whole staff "
                           "signs in within a few minutes at 8:00; a password guesser gets "
                           f"{login_per_minute / 60:.1f} a second"),
        login_burst=Derived(max(10, peak_users // 4), f"max(10, {peak_users} // 4)",
                            "the morning rush"),
        ml_read_timeout=fixed("60s", "ML analysis may take tens of seconds (the guide's 60 s)"),
        api_read_timeout=fixed("30s", "ordinary API calls"),
        weights=Derived(
            ", ".join(f"{h}={c}" for h, _, _, c in web),
            "weight = web host cores",
            "least_conn with weights proportional to capacity (seed errata #10)",
        ),
    )



def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step
