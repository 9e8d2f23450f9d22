"""Rollout wall time per web server and in total on a large sandbox, with requests served.

Creates a large-tier sandbox with two web servers (six systemd containers), applies the
default build, then upgrades to a second build of the app under a steady locust load through
the load balancer, and rolls back under the same load. While each change runs, the load
balancer's view (`ssas-lb-backend list`) is polled every 0.5 s, so the time each web server
spent drained is measured, not inferred. Prints figures, asserts nothing. Needs root, podman
and the base image (bash scripts/testhosts.sh setup). About 15 minutes on the 2-core machine.

Usage: python bench/rollout_sandbox.py [--keep]
"""

import argparse
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sandbox_run import ssas, throwaway_sandbox
from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import connect, run
from tests.e2e.builds import next_build
from tests.e2e.site_client import Site
from tests.load.steady import steady_load


class DrainWatch(threading.Thread):
    """Polls the load balancer; accumulates seconds each backend was marked down."""

    def __init__(self, lb):
        super().__init__(daemon=True)
        self.client = connect(lb, 10)
        self.down: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self):
        last = time.monotonic()
        while not self.stop.is_set():
            rc, out, _ = run(self.client, "/usr/local/sbin/ssas-lb-backend list")
            now = time.monotonic()
            if rc == 0:
                for server, state in json.loads(out).items():
                    self.down.setdefault(server, 0.0)
                    if state == "down":
                        self.down[server] += now - last
            last = now
            time.sleep(0.5)
        self.client.close()


def measured(label: str, site: Site, tokens: list[str], lb, args: list[str],
             env: dict) -> None:
    watch = DrainWatch(lb)
    watch.start()
    with steady_load(site.base, tokens, before_s=15, after_s=15) as load:
        seconds = ssas(*args, env=env)
    watch.stop.set()
    watch.join()
    result = load.result
    print(f"{label:9} total {seconds:6.1f} s; drained per web server: "
          + ", ".join(f"{s} {d:.1f} s" for s, d in sorted(watch.down.items()))
          + f"; {result.requests} requests served during the window "
          f"({result.requests / result.seconds:.1f}/s), {result.failed} failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="Keep the sandbox afterwards.")
    args = parser.parse_args()
    with throwaway_sandbox("rollout", "large", "hosts:\n  web: {count: 2}\n",
                           keep=args.keep) as sandbox:
        env, inventory = sandbox.env, sandbox.inventory
        sandbox.up()
        apply = sandbox.apply_args()
        first = ssas(*apply, env=env)
        print(f"first apply (6 bare hosts) {first:6.1f} s")
        site = Site(sandbox.profile, inventory)
        tokens = site.staff_tokens("bench", 4)
        wheelhouse, _ = next_build(sandbox.root)
        lb = site.deployment.topology.first(Role.load_balancer)
        measured("upgrade", site, tokens, lb, [*apply, "--wheelhouse", str(wheelhouse)], env)
        measured("rollback", site, tokens, lb, ["rollback", "--inventory", str(inventory)], env)
        noop = ssas(*apply, env=env)
        print(f"no-op apply afterwards     {noop:6.1f} s")

if __name__ == "__main__":
    main()
