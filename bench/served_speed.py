"""Served speed on a small sandbox: gunicorn worker recycling at the derived max_requests
against the previous fixed setting (max_requests 1000, jitter 100), in the same run.

Creates a small-tier sandbox, applies it, adds a school of synthetic students and scores and
staff users (each locust user signs in with its own API token, so the app's per-user throttle
is not what is measured). Then, in interleaved pairs (the order alternates per pair), it sets
web-1's gunicorn.conf.py to one setting, restarts gunicorn, warms up for 10 s and drives
signed-in staff (bench/served_locustfile.py) through the load balancer for --seconds at
--rate requests per second in all (under nginx's per-address API limit, 160 r/s on small,
so that the limit is not what is measured; the site keeps up or the throughput shows it).
Per run it prints p50/p95 (ms), throughput (req/s), gunicorn's CPU per request (ms, from
/proc: the master, its live and its recycled workers) and the worker recycles gunicorn
logged; then the ratio of the medians, derived / previous. The derived
setting is put back at the end (the next `apply` finds nothing to change). Prints figures,
asserts nothing. Needs root, podman and the base image (bash scripts/testhosts.sh setup).
About 12 minutes.

Usage: python bench/served_speed.py [--pairs N] [--seconds S] [--users U] [--rate R] [--keep]
"""

import argparse
import csv
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sandbox_run import ssas, throwaway_sandbox
from ssas_deploy.context.paths import CONFIG_DIR
from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import connect, run
from tests.e2e.site_client import Site

LOCUSTFILE = Path(__file__).with_name("served_locustfile.py")
PREVIOUS = (1000, 100)  # gunicorn's max_requests, max_requests_jitter before they were derived
UNIT = "ssas-gunicorn"


@dataclass
class Run:
    label: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    cpu_ms_per_request: float
    recycles: int


class WebHost:
    """web-1 over SSH: its gunicorn's recycling setting, CPU time and log."""

    def __init__(self, host):
        self.client = connect(host, 10)

    def sh(self, command: str, timeout: float = 60) -> str:
        rc, out, err = run(self.client, command, timeout=timeout)
        if rc:
            raise RuntimeError(f"{command}: exit {rc}: {err}")
        return out.decode()

    def set_recycling(self, max_requests: int, jitter: int) -> None:
        conf = f"{CONFIG_DIR}/gunicorn.conf.py"
        self.sh(f"sed -i -e 's/^max_requests = .*/max_requests = {max_requests}/' "
                f"-e 's/^max_requests_jitter = .*/max_requests_jitter = {jitter}/' {conf}")
        self.sh(f"systemctl restart {UNIT}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if "200" in self.sh("curl -s -o /dev/null -w '%{http_code}' "
                                "http://127.0.0.1:8000/monitoring/health/ || true"):
                return
            time.sleep(1)
        raise RuntimeError(f"{UNIT} did not answer within 120 s")

    def cpu_ns(self) -> int:
        """CPU time of gunicorn so far: the master's own and its reaped children's (workers
        recycled meanwhile: cutime, cstime) plus each live worker's. /proc, not the unit's
        CPUUsageNSec: containers here run without CPU accounting."""
        fields = "sed 's/^.*) //' /proc/{}/stat"  # after the command name, which has spaces
        script = (f"pid=$(systemctl show -P MainPID {UNIT}); "
                  f"{{ {fields.format('$pid')} | awk '{{print $12+$13+$14+$15}}'; "
                  f"for c in $(pgrep -P $pid); do {fields.format('$c')} | "
                  "awk '{print $12+$13}'; done; } | "
                  "awk -v hz=$(getconf CLK_TCK) '{s+=$1} END {printf \"%.0f\\n\", s*1e9/hz}'")
        return int(self.sh(script).strip())

    def now(self) -> str:
        return self.sh("date -u '+%Y-%m-%d %H:%M:%S'").strip()

    def recycles_since(self, since: str) -> int:
        log = self.sh(f"journalctl -u {UNIT} --since '{since} UTC' -o cat --no-pager")
        return len(re.findall(r"Autorestarting worker", log))


def locust(base: str, tokens: list[str], users: int, rate: float, seconds: int,
           work: Path) -> dict:
    """locust headless for `seconds` at `rate` req/s in all; the Aggregated row of its stats."""
    prefix = work / f"run-{time.monotonic_ns()}"
    env = {**os.environ, "SSAS_LOAD_TOKENS": ",".join(tokens), "PYTHONWARNINGS": "ignore",
           "SSAS_LOAD_RATE": str(rate / users)}
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(LOCUSTFILE),
               "--headless", "--users", str(users), "--spawn-rate", str(users), "--host",
               base, "--run-time", f"{seconds}s", "--csv", str(prefix), "--only-summary",
               "--stop-timeout", "10", "--loglevel", "WARNING"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")


# Creates superusers with API tokens in one management command (the API's login is rate
# limited, and each run needs fresh users: the app allows 2,000 API calls a user an hour).
TOKENS_SCRIPT = """
import secrets, sys
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
prefix, count = sys.argv[1], int(sys.argv[2])
for number in range(count):
    name = f"{prefix}-{number}"
    user = get_user_model().objects.create_superuser(
        name, f"{name}@school.example", secrets.token_urlsafe(16))
    print(Token.objects.create(user=user).key)
"""


def fresh_tokens(site: Site, prefix: str, count: int) -> list[str]:
    """API tokens of `count` new superusers PREFIX-0..N-1."""
    out = site.manage(Role.web, "shell", "-c",
                      f"import sys; sys.argv = ['', {prefix!r}, '{count}']\n{TOKENS_SCRIPT}")
    tokens = re.findall(r"^[0-9a-f]{40}$", out, re.MULTILINE)  # shell also says what it imported
    assert len(tokens) == count, out
    return tokens


def measure(label: str, web: WebHost, setting: tuple[int, int], base: str,
            tokens: list[str], rate: float, seconds: int, work: Path) -> Run:
    """One run with its own `users` tokens (each locust user signs in as another user)."""
    web.set_recycling(*setting)
    users = len(tokens)
    locust(base, tokens, users, rate, 10, work)  # warm-up: imports, connections, caches
    since, cpu_before = web.now(), web.cpu_ns()
    row = locust(base, tokens, users, rate, seconds, work)
    cpu = web.cpu_ns() - cpu_before
    requests = int(row["Request Count"])
    result = Run(label, requests, int(row["Failure Count"]), float(row["Requests/s"]),
                 float(row["50%"]), float(row["95%"]),
                 cpu / 1e6 / max(requests, 1), web.recycles_since(since))
    print(f"  {label:28} {result.requests:6} req, {result.failures} failed, "
          f"{result.rps:6.1f} req/s, p50 {result.p50_ms:5.0f} ms, p95 {result.p95_ms:5.0f} ms, "
          f"CPU {result.cpu_ms_per_request:5.1f} ms/req, {result.recycles} worker recycles",
          flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--rate", type=float, default=140.0,
                        help="Requests per second offered in all (default 140).")
    parser.add_argument("--keep", action="store_true", help="Keep the sandbox afterwards.")
    args = parser.parse_args()
    with throwaway_sandbox("served", "small", keep=args.keep) as sandbox:
        sandbox.up()
        first = ssas(*sandbox.apply_args(), env=sandbox.env)
        print(f"first apply {first:.0f} s")
        site = Site(sandbox.profile, sandbox.inventory)
        site.manage(Role.web, "generate_school", "--students", "400", "--seed", "5")
        # A fresh user per locust user and run: no one nears the app's hourly API limit.
        tokens = fresh_tokens(site, "bench", args.users * 2 * args.pairs)
        host = site.deployment.topology.first(Role.web)
        hv = site.deployment.host_vars[host.name]
        derived = (hv["gunicorn_max_requests"], hv["gunicorn_max_requests_jitter"])
        settings = {f"previous max_requests {PREVIOUS[0]}": PREVIOUS,
                    f"derived max_requests {derived[0]}": derived}
        web = WebHost(host)
        print(f"{args.pairs} interleaved pair(s), {args.seconds} s each, {args.users} signed-in "
              f"users offering {args.rate:g} req/s; gunicorn {hv['gunicorn_workers']} workers x "
              f"{hv['gunicorn_threads']} threads on {host.name}")
        runs: dict[str, list[Run]] = {label: [] for label in settings}
        work = sandbox.root / "locust"
        work.mkdir()
        for pair in range(args.pairs):
            order = list(settings.items())
            if pair % 2:
                order.reverse()
            print(f"pair {pair + 1}")
            for label, setting in order:
                own, tokens = tokens[:args.users], tokens[args.users:]
                runs[label].append(measure(label, web, setting, site.base, own,
                                           args.rate, args.seconds, work))
        web.set_recycling(*derived)
        old, new = (runs[label] for label in settings)

        def median(results: list[Run], field: str) -> float:
            return statistics.median(getattr(r, field) for r in results)

        print("derived / previous, medians of the pairs:")
        for field, what in (("p95_ms", "p95"), ("p50_ms", "p50"), ("rps", "throughput"),
                            ("cpu_ms_per_request", "CPU per request"),
                            ("recycles", "worker recycles")):
            before, after = median(old, field), median(new, field)
            ratio = f"{after / before:.2f}x" if before else "n/a"
            print(f"  {what:16} {before:8.1f} -> {after:8.1f}  ({ratio})")


if __name__ == "__main__":
    main()
