"""Safe change on the large sandbox (LB, 2 web, DB, Redis, worker) under a steady load.

Each change below runs while locust sends ~30 requests/s through the load balancer (10 s
before, during, 15 s after): an app upgrade to a second build, a rotated Django secret key
(every web server restarts), a rollback, then an apply back on the default build. Goal:
not one failed request. The figures are printed (pytest -s or the CI log's captured output).
"""

import json

import pytest

from ..load.steady import steady_load
from .builds import next_build
from .checks import assert_live_hosts_match_render, changed_tasks
from .conftest import cli
from .site_client import Site


@pytest.fixture(scope="module")
def rollout(large, tmp_path_factory):
    """The site, API tokens of four staff users for the load, and the second build."""
    profile, inventory = large
    site = Site(profile, inventory)
    tokens = site.staff_tokens("e2e-load", 4)
    wheelhouse, version = next_build(tmp_path_factory.mktemp("build"))
    return site, tokens, wheelhouse, version


def _under_load(rollout, label: str, *args: str):
    site, tokens = rollout[0], rollout[1]
    # 10 s of load before the change shows the site serving; 15 s after catches a backend
    # that came back broken (~450 requests).
    with steady_load(site.base, tokens, before_s=10, after_s=15) as load:
        result = cli(*args)
    print(f"\n{label}: {load.result.summary()}")
    return result, load.result


def _status(inventory) -> dict:
    return json.loads(cli("status", "--inventory", str(inventory), "--json").stdout)


def _app_hosts(status: dict) -> list[dict]:
    return [h for h in status["hosts"] if {"web", "celery_worker"} & set(h["roles"])]


def test_app_upgrade_under_load_fails_no_request(large, rollout):
    profile, inventory = large
    _, _, wheelhouse, version = rollout
    before = _status(inventory)
    _, load = _under_load(rollout, "upgrade", "apply", "--profile", str(profile), "--inventory",
                          str(inventory), "--force", "--wheelhouse", str(wheelhouse))
    assert load.requests > 1000, load.summary()
    assert load.failed == 0, load.summary()
    after = _status(inventory)
    for host, old in zip(_app_hosts(after), _app_hosts(before), strict=True):
        assert host["current"].startswith(f"{version}-"), host
        assert host["previous"] == old["current"], host
        for unit, state in host["units"].items():
            assert state["state"] == "active" and state["release"] == host["current"], unit
    lb = next(h for h in after["hosts"] if "load_balancer" in h["roles"])
    assert set(lb["backends"].values()) == {"up"}, lb


def test_rotated_secret_key_rolls_every_web_server_without_a_failed_request(large, rollout):
    profile, inventory = large
    _, _, wheelhouse, _ = rollout
    cli("secrets", "rotate", "django_secret_key", "--inventory", str(inventory))
    applied, load = _under_load(rollout, "secret rotation", "apply", "--profile", str(profile),
                                "--inventory", str(inventory), "--force", "--wheelhouse",
                                str(wheelhouse))
    assert changed_tasks(applied.stdout) > 0
    assert load.failed == 0, load.summary()
    for host in _app_hosts(_status(inventory)):
        for unit, state in host["units"].items():
            assert state["state"] == "active", (host["name"], unit)


def test_rollback_under_load_fails_no_request(large, rollout):
    _, inventory = large
    _, _, _, version = rollout
    before = _status(inventory)
    _, load = _under_load(rollout, "rollback", "rollback", "--inventory", str(inventory))
    assert load.failed == 0, load.summary()
    for host, old in zip(_app_hosts(_status(inventory)), _app_hosts(before), strict=True):
        assert host["current"] == old["previous"] and host["previous"] == old["current"], host
        assert not host["current"].startswith(f"{version}-"), host
        for state in host["units"].values():
            assert state["release"] == host["current"], host


def test_apply_after_the_rollback_changes_nothing(large, rollout):
    # The default build is the one the rollback returned to: nothing is left to change.
    profile, inventory = large
    result = cli("apply", "--profile", str(profile), "--inventory", str(inventory), "--force")
    assert changed_tasks(result.stdout) == 0, result.stdout[-3000:]
    assert_live_hosts_match_render(profile, inventory)
