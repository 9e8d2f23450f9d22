"""The small tier on one sandbox host: apply from a bare host, use it, re-apply.

A rotated database password is rolled out (through two interrupted applies) in
test_small_interrupts.py.
"""

import json

from ssas_deploy.migration.remote import run_on
from ssas_deploy.profiles.models import Role

from .checks import (
    assert_live_hosts_match_render,
    assert_second_apply_changes_nothing,
    changed_tasks,
    seed_and_check_service,
)
from .conftest import cli
from .site_client import Site


def test_apply_from_a_bare_host_serves_ssas(small):
    seed_and_check_service(Site(*small), students=120)


def test_second_apply_changes_nothing(small):
    assert_second_apply_changes_nothing(*small)


def test_live_files_equal_rendered_files(small):
    assert_live_hosts_match_render(*small)


def test_a_hand_edit_and_a_loosened_secret_are_found_then_put_back(small):
    """plan --inventory finds a changed byte and a changed mode (the secrets file made
    world-readable by hand); the next apply puts both back, and plan finds nothing again."""
    profile, inventory = small
    host = Site(profile, inventory).deployment.topology.first(Role.web)
    nginx_site, secrets_env = "/etc/nginx/conf.d/ssas.conf", "/etc/ssas/secrets.env"
    run_on(host, f"echo '# edited by hand' >> {nginx_site} && chmod 0644 {secrets_env}")
    try:
        _assert_found(profile, inventory, host.name, nginx_site, secrets_env)
    finally:
        # The sandbox is shared: it is put back even when the plan's findings are wrong.
        applied = cli("apply", "--profile", str(profile), "--inventory", str(inventory),
                      "--force")
    assert changed_tasks(applied.stdout) >= 2, applied.stdout[-3000:]
    assert run_on(host, f"stat -c %a {secrets_env}").strip() == "640"
    assert_live_hosts_match_render(profile, inventory)


def _assert_found(profile, inventory, host: str, nginx_site: str, secrets_env: str) -> None:
    plan = cli("plan", "--profile", str(profile), "--inventory", str(inventory), "--json")
    live = {h["host"]: h for h in json.loads(plan.stdout)["live"]}
    changes = {c["path"]: c for c in live[host]["changes"]}
    assert set(changes) == {nginx_site, secrets_env}, changes
    assert changes[nginx_site]["status"] == "changed"
    assert "-# edited by hand" in changes[nginx_site]["diff"]
    assert changes[secrets_env]["status"] == "permissions differ"
    assert "live root:ssas 0644, wanted root:ssas 0640" in changes[secrets_env]["diff"]
