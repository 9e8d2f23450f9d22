"""Scale-out on the large sandbox: one more web server and one more Celery worker, under load.

The profile grows from 2 to 3 web servers and from 1 to 2 workers; `sandbox up` adds the two
hosts, `apply` installs them while locust sends ~30 requests/s through the load balancer. The
web play runs before the load balancer's, so a new server joins the upstream only once its
`/monitoring/ready/` answers 200. Goal: not one failed request, and the new hosts serving.

PostgreSQL on this unpooled tier is sized up front for the tier's largest app fleet (3 web
servers, 3 worker hosts: sizing.plan.DeploymentSizing.growth_clients), so max_connections,
a restart-only setting, does not change and nothing that serves requests restarts.
"""

import json

from ..load.steady import steady_load
from .conftest import cli
from .site_client import Site


def _status(inventory) -> dict:
    return json.loads(cli("status", "--inventory", str(inventory), "--json").stdout)


def test_added_web_server_and_worker_join_without_a_failed_request(large):
    profile, inventory = large
    before = _status(inventory)
    old_names = {h["name"] for h in before["hosts"]}
    text = profile.read_text(encoding="utf-8")
    assert "web: {count: 2}" in text, text
    profile.write_text(text.replace("web: {count: 2}",
                                    "web: {count: 3}\n  celery_worker: {count: 2}"),
                       encoding="utf-8")
    cli("sandbox", "up", "--profile", str(profile), "--dir", str(inventory.parent))
    site = Site(profile, inventory)
    tokens = site.staff_tokens("e2e-scale", 4)
    with steady_load(site.base, tokens, before_s=10, after_s=15) as load:
        cli("apply", "--profile", str(profile), "--inventory", str(inventory), "--force")
    print(f"\nscale-out (+1 web, +1 worker): {load.result.summary()}")
    assert load.result.requests > 500, load.result.summary()
    assert load.result.failed == 0, load.result.summary()

    after = _status(inventory)
    added = [h for h in after["hosts"] if h["name"] not in old_names]
    assert sorted(h["name"] for h in added) == ["web-3", "worker-2"], added
    reference = next(h for h in after["hosts"] if h["name"] == "web-1")
    for host in added:
        assert host["current"] == reference["current"], host
        for unit, state in host["units"].items():
            assert state["state"] == "active", (host["name"], unit, state)
    web3 = next(h for h in added if h["name"] == "web-3")
    assert web3["ready"] == "200", web3
    lb = next(h for h in after["hosts"] if "load_balancer" in h["roles"])
    assert len(lb["backends"]) == 3 and set(lb["backends"].values()) == {"up"}, lb
