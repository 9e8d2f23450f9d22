"""nginx on the load balancer: workers, upstream weights, rate limits and timeouts."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import Derived, fixed


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
    ml_read_timeout: Derived
    api_read_timeout: Derived
    weights: Derived


def size_nginx(cores: float, peak_users: int, web: list[tuple[str, str, int, int]]) -> NginxSizing:
    """`web` lists (host, address, port, cores) of each gunicorn backend."""
    processes = max(1, round(cores))
    # Each user may hold a few browser connections; each proxied one also uses an upstream.
    per_worker = max(1024, _round_up(peak_users * 4 // processes, 512))
    return NginxSizing(
        worker_processes=Derived(processes, f"round({cores:g} cores)", "one worker per core"),
        worker_connections=Derived(
            per_worker,
            f"max(1024, {peak_users} peak users x 4 connections / {processes} workers)",
            "client + upstream connection per request, browsers open several",
        ),
        worker_rlimit_nofile=Derived(per_worker * 2, "2 x worker_connections",
                                     "a proxied request holds two descriptors"),
        upstream_keepalive=Derived(
            max(16, 4 * len(web)), f"max(16, 4 x {len(web)} backends)",
            "idle keepalive connections kept to the app servers",
        ),
        api_rate=fixed("10r/s", "per signed-in session (or address): a busy teacher's dashboard"),
        api_burst=fixed(40, "a page load fans out into many API calls"),
        ml_rate=fixed("2r/s", "ML routes are CPU heavy; throttle per session"),
        ml_burst=fixed(5, "a few predictions in a row are normal"),
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
