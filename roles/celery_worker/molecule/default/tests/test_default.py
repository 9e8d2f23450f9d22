"""Verify the celery_worker role (with ssas_app, as on the small tier's single server)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
HELPER = "/usr/local/sbin/ssas-env"
UNITS = ["/etc/systemd/system/ssas-celery-all.service", "/etc/systemd/system/ssas-celery-beat.service"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    cli = Path(sys.executable).parent / "ssas-deploy"
    subprocess.run([str(cli), "render", "--profile", str(EPHEMERAL / "profile.yml"), "--out", str(out)],
                   check=True, capture_output=True)
    manifest = json.loads((out / "manifest.json").read_text())
    return {f["path"]: ((out / "web-1" / f["path"].lstrip("/")).read_text(), f)
            for f in manifest["files"] if f["host"] == "web-1"}


@pytest.fixture(scope="module")
def groups():
    return json.loads((EPHEMERAL / "hostvars.json").read_text())["celery_worker_groups"]


@pytest.mark.parametrize("path", UNITS + ["/etc/ssas/ssas_celery.py", "/etc/ssas/ssas_settings.py"])
def test_files_equal_cli_render(host, rendered, path):
    content, spec = rendered[path]
    deployed = host.file(path)
    assert (deployed.user, deployed.group, deployed.mode) == (spec["owner"], spec["group"], int(spec["mode"], 8))
    assert deployed.content_string == content


def test_one_running_unit_per_group(host, groups):
    assert [g["unit"] for g in groups] == ["ssas-celery-all"]
    for group in groups:
        service = host.service(group["unit"])
        assert service.is_running
        assert service.is_enabled
        # Warm shutdown must outlast the longest hard time limit (1800 s for analytics).
        timeout = host.check_output(f"systemctl show -P TimeoutStopUSec {group['unit']}")
        assert timeout == f"{group['stop_timeout'] // 60}min {group['stop_timeout'] % 60}s"
        assert group["stop_timeout"] > 1800
        assert host.check_output(f"systemctl show -P User {group['unit']}") == "ssas"


def test_beat_runs_once(host):
    beat = host.service("ssas-celery-beat")
    assert beat.is_running
    assert beat.is_enabled
    assert int(host.check_output("systemctl show -P MainPID ssas-celery-beat")) > 0
    assert host.check_output("systemctl show -P User ssas-celery-beat") == "ssas"


def test_worker_answers_ping(host):
    out = host.check_output(f"{HELPER} celery --app ssas.celery_app:app inspect ping --timeout 10")
    assert "all@" in out and "pong" in out


def test_a_task_really_runs(host):
    code = ("from ssas.analytics.tasks import daily_aggregation as t; "
            "r = t.delay('2026-01-15'); print('result', r.get(timeout=60))")
    out = host.check_output(f"{HELPER} ssas-manage shell -c \"{code}\"")
    assert out.strip().splitlines()[-1] == "result 0"  # no scores yet: 0 aggregates, but it ran


def test_worker_processes_run_as_app_user(host):
    assert not host.process.filter(user="root", comm="celery")
