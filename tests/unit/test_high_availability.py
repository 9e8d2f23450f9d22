"""The HA layout plan --explain shows: it must say what the rendered configuration does."""

import json
import re

import pytest
import yaml
from typer.testing import CliRunner

from ssas_deploy.cli.app import app
from ssas_deploy.context.build import build
from ssas_deploy.context.patroni import DCS_TIMING, patroni_members, patroni_vars
from ssas_deploy.context.services import sentinel_quorum
from ssas_deploy.high_availability import ha_layout, majority
from ssas_deploy.rendering import render_deployment

from .test_patroni_vars import deployment_of


def _sentinel_monitors(deployment) -> dict[str, set[tuple[str, int]]]:
    """master name -> {(host, quorum)} from every rendered Sentinel seed."""
    monitors: dict[str, set[tuple[str, int]]] = {}
    for item in render_deployment(deployment):
        if item.spec.dest != "/etc/redis/ssas-sentinel.conf":
            continue
        for name, quorum in re.findall(r"^sentinel monitor (\S+) \S+ \d+ (\d+)$",
                                       item.content, re.MULTILINE):
            monitors.setdefault(name, set()).add((item.host, int(quorum)))
    return monitors


def test_the_very_large_layout_is_the_rendered_one():
    deployment = deployment_of("very-large")
    layout = ha_layout(deployment)
    pg = layout["postgresql"]
    assert [m["host"] for m in pg["members"]] == ["db-1", "db-replica-1", "db-replica-2"]
    assert [m["bootstrap_role"] for m in pg["members"]] == ["leader", "replica", "replica"]
    assert pg["dcs"] == {"engine": "etcd", "members": ["db-1", "db-replica-1", "db-replica-2"],
                         "quorum": 2, "tolerates": 1}
    # The timing and the mode are the ones Patroni is configured with.
    dcs = patroni_vars(deployment.sizing, patroni_members(deployment.topology)[1])["patroni_dcs"]
    assert pg["failover_within_s"] == dcs["ttl"] + dcs["loop_wait"]
    assert pg["synchronous_mode"] is dcs["synchronous_mode"] is True
    assert pg["rpo"].startswith("0 for acknowledged commits")

    # Each Sentinel of a group watches its primary with the quorum the plan shows.
    monitors = _sentinel_monitors(deployment)
    assert all(g["sentinels"] for g in layout["redis"])
    for group in layout["redis"]:
        hosts = {n["host"] for n in group["nodes"]}
        assert monitors[group["master_name"]] == {(h, group["quorum"]) for h in hosts}
    assert [g["group"] for g in layout["redis"]] == ["cache", "broker"]

    shards = layout["shards"]
    assert [d["database"] for d in shards["databases"]] == [
        f"ssas_production_shard_{i}" for i in range(4)]
    assert {d["rpo_s"] for d in shards["databases"]} == {300}


def test_an_asynchronous_cluster_may_lose_what_patroni_lets_a_candidate_lag():
    deployment = deployment_of("very-large")
    profile = deployment.profile
    database = profile.database.model_copy(update={"synchronous_replication": False})
    layout = ha_layout(build(profile.model_copy(update={"database": database})))
    assert layout["postgresql"]["synchronous_mode"] is False
    assert f"{DCS_TIMING['maximum_lag_on_failover']:,} bytes" in layout["postgresql"]["rpo"]


def test_a_five_host_sentinel_group_needs_three_to_agree():
    deployment = deployment_of("very-large", redis_cache={"count": 5})
    cache = next(g for g in ha_layout(deployment)["redis"] if g["group"] == "cache")
    assert cache["quorum"] == cache["failover_authorized_by"] == 3
    assert _sentinel_monitors(deployment)["ssas-cache"] == {
        (f"cache-{i}", 3) for i in range(1, 6)}


def test_one_server_tiers_have_no_failover_and_say_what_a_restore_loses():
    deployment = deployment_of("large")
    layout = ha_layout(deployment)
    assert layout["postgresql"] == {"manager": None, "host": "db-1", "rpo_s": 300}
    assert [(g["group"], g["sentinels"]) for g in layout["redis"]] == [("cache", []),
                                                                       ("broker", [])]
    assert layout["shards"] is None
    assert not _sentinel_monitors(deployment)  # and no Sentinel is rendered


@pytest.mark.parametrize("function", [majority, sentinel_quorum])
def test_a_quorum_of_too_few_members_is_refused(function):
    with pytest.raises(ValueError):
        function(0)
    assert function(3) == 2 and function(4) == 3


def run_cli(*args):
    return CliRunner().invoke(app, list(args))


def test_plan_explain_and_json_show_the_layout(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per sentence: what is asserted below
    text = run_cli("plan", "--profile", "very-large", "--explain")
    assert text.exit_code == 0, text.output
    assert "quorum 2 of 3, survives 1 lost member(s)" in text.output
    assert "Redis broker (ssas-broker): Sentinel on broker-1, broker-2, broker-3" in text.output
    plain = run_cli("plan", "--profile", "very-large")
    assert "High availability" not in plain.output
    document = json.loads(run_cli("plan", "--profile", "very-large", "--json").output)
    assert document["high_availability"]["postgresql"]["dcs"]["quorum"] == 2
    assert yaml.safe_dump(document["high_availability"])  # plain data only
