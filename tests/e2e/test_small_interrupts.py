"""Interrupting `apply` on the small sandbox: SIGINT and SIGTERM in the middle of the database
role, and ansible-playbook killed from outside (a lost recap).

Each apply runs with TMPDIR set to the test's own (long) tmp_path, so every file and process of
the run can be found there; SSH control sockets, which must stay under 108 bytes, then go to a
short /tmp/ssas-cp-* dir that must be gone afterwards too.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .checks import changed_tasks
from .conftest import VAULT_PASSWORD, cli


@pytest.fixture
def control_dirs_left():
    """A check that the run removed the short SSH control-socket dir it made under /tmp."""
    before = set(Path("/tmp").glob("ssas-cp-*"))
    return lambda: sorted(set(Path("/tmp").glob("ssas-cp-*")) - before)


def _start_apply(profile, inventory, tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "SSAS_VAULT_PASSWORD": VAULT_PASSWORD, "SSAS_DEPLOY_WIDTH": "160",
           "TMPDIR": str(tmpdir)}
    return subprocess.Popen([sys.executable, "-m", "ssas_deploy", "apply", "--profile",
                             str(profile), "--inventory", str(inventory), "--force"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


def _wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 900) -> list[str]:
    deadline, seen = time.monotonic() + timeout, []
    for line in process.stdout:
        seen.append(line)
        if needle in line:
            return seen
        assert time.monotonic() < deadline, f"no line with {needle!r} in {timeout} s"
    raise AssertionError(f"apply ended before {needle!r}:\n{''.join(seen[-40:])}")


def _ansible_processes(tmpdir: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-af", str(tmpdir)], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def _secret_values(inventory) -> list[str]:
    from ssas_deploy.secrets import deployment_secrets

    os.environ["SSAS_VAULT_PASSWORD"] = VAULT_PASSWORD
    try:
        return [v for v in deployment_secrets(Path(inventory)).values() if len(v) >= 8]
    finally:
        del os.environ["SSAS_VAULT_PASSWORD"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_in_the_database_role_stops_cleanly_and_apply_converges(small, tmp_path,
                                                                        control_dirs_left, signum):
    profile, inventory = small
    # Give the database role real work: a new password for the app's PostgreSQL role.
    cli("secrets", "rotate", "db_password", "--inventory", str(inventory))
    process = _start_apply(profile, inventory, tmp_path)
    seen = _wait_for_line(process, "TASK  postgresql : ")
    process.send_signal(signum)
    rest, _ = process.communicate(timeout=180)
    output = "".join(seen) + rest
    assert process.returncode == 130, output[-3000:]
    assert "interrupted" in output and "Re-run `ssas-deploy apply`" in output, output[-3000:]
    time.sleep(1)
    assert _ansible_processes(tmp_path) == []
    assert not list(tmp_path.glob("ssas-run-*")), list(tmp_path.iterdir())
    assert control_dirs_left() == []
    secrets = _secret_values(inventory)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), path
    # The next apply converges (the new password reaches PostgreSQL and the app) ...
    converged = cli("apply", "--profile", str(profile), "--inventory", str(inventory),
                    "--force")
    assert changed_tasks(converged.stdout) > 0
    # ... and the one after that has nothing left to do.
    again = cli("apply", "--profile", str(profile), "--inventory", str(inventory), "--force")
    assert changed_tasks(again.stdout) == 0, again.stdout[-3000:]


def test_a_lost_recap_is_a_failure_never_zero_changed(small, tmp_path, control_dirs_left):
    profile, inventory = small
    process = _start_apply(profile, inventory, tmp_path)
    seen = _wait_for_line(process, "TASK  redis : ")
    main = subprocess.run(["pgrep", "-f", f"ansible-playbook -i {tmp_path}"],
                          capture_output=True, text=True).stdout.split()
    assert main, "ansible-playbook not found"
    for pid in main:
        os.kill(int(pid), signal.SIGKILL)
    rest, _ = process.communicate(timeout=180)
    output = "".join(seen) + rest
    assert process.returncode == 1, output[-3000:]
    assert "without its final stats" in output, output[-3000:]
    assert "task(s) changed" not in output
    assert _ansible_processes(tmp_path) == []
    assert not list(tmp_path.glob("ssas-run-*")) and control_dirs_left() == []
