"""The Prometheus alert rules (ssas_deploy/monitoring.py, templates/prometheus/): promtool
checks the file rendered for every built-in tier, and runs ssas-alerts.test.yml, where every
alert fires in one case and stays quiet in another."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ssas_deploy import monitoring
from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile

HERE = Path(__file__).parent
TIERS = ("small", "medium", "large", "very-large")


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool missing in CI (Debian package prometheus)")
        pytest.skip("missing promtool; run scripts/setup.sh to install it")
    return found


def _rules(tier: str) -> str:
    return monitoring.render_alert_rules(build(load_profile(tier)))


def _alerts(text: str) -> list[dict]:
    return [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


@pytest.mark.parametrize("tier", TIERS)
def test_promtool_accepts_the_rules_of_every_tier(tier, promtool, tmp_path):
    path = tmp_path / "ssas-alerts.rules.yml"
    path.write_text(_rules(tier))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(rule["labels"]["severity"] in ("critical", "warning")
               and rule["annotations"]["summary"] and rule["annotations"]["description"]
               for rule in _alerts(path.read_text()))


def test_promtool_unit_tests_pass(promtool, tmp_path):
    (tmp_path / "ssas-alerts.rules.yml").write_text(_rules("very-large"))
    shutil.copy(HERE / "ssas-alerts.test.yml", tmp_path)
    result = subprocess.run([promtool, "test", "rules", "ssas-alerts.test.yml"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case():
    """very-large has every rule the other tiers have; each has both kinds of case."""
    every = {rule["alert"] for rule in _alerts(_rules("very-large"))}
    for tier in TIERS:
        assert {rule["alert"] for rule in _alerts(_rules(tier))} <= every, tier
    cases = [case for test in yaml.safe_load((HERE / "ssas-alerts.test.yml").read_text())["tests"]
             for case in test["alert_rule_test"]]
    firing = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert every - firing == set()
    assert every - quiet == set()
    assert len(every) == 17


def test_thresholds_are_the_guides_and_the_deployments():
    text = _rules("very-large")
    for level in ("critical", "warning"):
        for key, threshold in monitoring.THRESHOLDS.items():
            assert f"> {getattr(threshold, level):g}" in text, (key, level)
    # The default schedule: a database backup every day, a full one every week.
    assert monitoring.schedule_gap_s("Sun *-*-* 01:30:00", "Mon..Sat *-*-* 01:30:00") == 86400
    assert monitoring.schedule_gap_s("Sun *-*-* 01:30:00") == 7 * 86400
    assert monitoring.schedule_gap_s("Mon,Thu 03:00") == 4 * 86400
    assert f"> {86400 + monitoring.BACKUP_GRACE_S}" in text
    assert "pg_stat_replication_pg_wal_lsn_diff > 1048576" in text
    # One server, no replica: no replication rule.
    assert "SsasReplicationLag" not in _rules("small")
