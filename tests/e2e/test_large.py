"""The large tier on six sandbox hosts: load balancer, two web, database, Redis, worker."""

import socket

import pytest

from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import connect, run

from .checks import (
    assert_live_hosts_match_render,
    assert_second_apply_changes_nothing,
    seed_and_check_service,
)
from .hardening import (
    assert_daemons_run_unprivileged,
    assert_only_expected_ports_answer,
    assert_services_sandboxed,
)
from .site_client import Site


def test_apply_builds_the_multi_host_site(large):
    site = Site(*large)
    assert len(site.deployment.topology.hosts) == 7  # with the backup host
    seed_and_check_service(site, students=200)


def test_each_web_server_serves_the_load_balancer_and_nobody_else(large):
    site = Site(*large)
    client = connect(site.lb, 10)
    try:
        for web in site.deployment.topology.with_role(Role.web):
            url = f"http://{web.address}:8000/monitoring/health/"
            rc, out, err = run(client, f"curl -s -o /dev/null -w '%{{http_code}}' -m 10 {url}")
            assert (rc, out.decode()) == (0, "200"), f"{web.name} from the LB: {out!r} {err}"
    finally:
        client.close()
    # This machine is not in gunicorn's allow list: the firewall drops the connection.
    for web in site.deployment.topology.with_role(Role.web):
        with pytest.raises(OSError):
            socket.create_connection((web.address, 8000), timeout=3).close()
    # PostgreSQL and Redis admit only the app hosts, not this machine either.
    db = site.deployment.topology.first(Role.database)
    cache = site.deployment.topology.first(Role.redis_cache)
    for host, port in ((db, 5432), (cache, 6379), (cache, 6380)):
        with pytest.raises(OSError):
            socket.create_connection((host.address, port), timeout=3).close()


def test_second_apply_changes_nothing(large):
    assert_second_apply_changes_nothing(*large)


def test_live_files_equal_rendered_files(large):
    assert_live_hosts_match_render(*large)


def test_hardening_holds_on_every_host_of_the_tier(large):
    """From outside only SSH and the load balancer's HTTP(S) answer; every service runs
    sandboxed (live score, read-only /etc) and nothing runs as root that need not."""
    site = Site(*large)
    seen = assert_only_expected_ports_answer(site)
    print(f"\nports answering from outside: { {h: sorted(p) for h, p in seen.items()} }")
    scores = assert_services_sandboxed(site)
    print(f"systemd-analyze security (live): {scores}")
    assert_daemons_run_unprivileged(site)
