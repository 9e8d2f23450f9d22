"""Verify the celery_worker role (with ssas_app, as on the small tier's single server)."""

import json
import os
import subprocess
import sys
import time
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


WORKER = "ssas-celery-all.service"
TASK_LOG = "/var/lib/ssas/molecule-warm-stop.log"  # in the worker's WorkingDirectory (ssas_data_dir)


def task_log(host):
    log = host.file(TASK_LOG)
    return log.content_string.splitlines() if log.exists else []


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.5)


def worker_answers_ping(host):
    return "pong" in host.run(f"{HELPER} celery --app ssas.celery_app:app inspect ping --timeout 5").stdout


def test_worker_unit_stops_warmly(host):
    assert host.check_output(f"systemctl show -P KillMode {WORKER}") == "mixed"
    assert host.check_output(f"systemctl show -P KillSignal {WORKER}") == "15"
    assert host.check_output(f"systemctl show -P Restart {WORKER}") == "on-failure"


# The test-only task comes from prepare.yml (files/ssas_molecule_tasks.py): it records each
# execution's start and completion in TASK_LOG.
def test_restart_lets_a_running_task_finish_exactly_once(host):
    """`systemctl restart` of a worker while it runs a task: the task completes, once.

    With KillMode=control-group the pool process running the task would get SIGTERM too and
    die; acks_late + reject_on_worker_lost then hand the task to the new worker: two starts.
    """
    host.check_output(f"rm -f {TASK_LOG}")
    tag = f"warm-{time.time_ns()}"
    code = ("from ssas.celery_app import app; "
            f"r = app.send_task('ssas_molecule.sleep_and_record', args=['{TASK_LOG}', 10, '{tag}'], queue='ml_heavy'); "
            "print('task', r.id)")
    out = host.check_output(f'{HELPER} ssas-manage shell -c "{code}"')
    task_id = out.strip().splitlines()[-1].removeprefix("task ")
    wait_for(lambda: any(line.startswith(f"start {tag} ") for line in task_log(host)), 60, "the task started")
    old_pid = host.check_output(f"systemctl show -P MainPID {WORKER}")

    start = time.monotonic()
    host.check_output(f"systemctl restart {WORKER}")
    restart_seconds = time.monotonic() - start
    # The old worker waited for its task before it exited.
    assert [line.split()[:2] for line in task_log(host)] == [["start", tag], ["done", tag]]

    assert host.service("ssas-celery-all").is_running
    assert host.check_output(f"systemctl show -P MainPID {WORKER}") not in ("0", old_pid)
    wait_for(lambda: worker_answers_ping(host), 60, "the new worker answers ping")
    # A task handed back to the broker would run again at once on the new worker.
    time.sleep(8)
    lines = task_log(host)
    assert [line.split()[:2] for line in lines] == [["start", tag], ["done", tag]], lines
    code = ("from ssas.celery_app import app; "
            f"r = app.AsyncResult('{task_id}'); print('result', r.state, r.get(timeout=30))")
    out = host.check_output(f'{HELPER} ssas-manage shell -c "{code}"')
    assert out.strip().splitlines()[-1] == f"result SUCCESS {tag}"
    print(f"{WORKER}: restart took {restart_seconds:.1f} s while the 10 s task finished; log: {lines}")
