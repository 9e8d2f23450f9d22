"""Interrupting `apply` on the small sandbox: SIGINT and SIGTERM in the middle of the database
role while a rotated database password is being rolled out (the rotation then converges and
reaches every use), and ansible-playbook killed from outside (a lost recap).

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

from ssas_deploy.profiles.models import Role

from .checks import assert_live_hosts_match_render, changed_tasks
from .conftest import VAULT_PASSWORD, cli
from .site_client import Site


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


def _interrupt_in_the_database_role(profile, inventory, tmp_path: Path, control_dirs_left,
                                    signum: signal.Signals) -> None:
    """One apply, stopped by `signum` in the middle of the database role: exit 130, a re-run
    hint, no process, work dir, control socket or secret left behind."""
    workdir = tmp_path / signum.name
    workdir.mkdir()
    process = _start_apply(profile, inventory, workdir)
    seen = _wait_for_line(process, "TASK  postgresql : ")
    process.send_signal(signum)
    rest, _ = process.communicate(timeout=180)
    output = "".join(seen) + rest
    assert process.returncode == 130, output[-3000:]
    assert "interrupted" in output and "Re-run `ssas-deploy apply`" in output, output[-3000:]
    time.sleep(1)
    assert _ansible_processes(workdir) == []
    assert not list(workdir.glob("ssas-run-*")), list(workdir.iterdir())
    assert control_dirs_left() == []
    secrets = _secret_values(inventory)
    for path in workdir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), path


def test_rotated_db_password_survives_sigint_and_sigterm_and_reaches_every_use(
        small, tmp_path, control_dirs_left):
    profile, inventory = small
    site = Site(profile, inventory)
    # Give the database role real work: a new password for the app's PostgreSQL role. Two
    # applies stopped in that role, one by each signal, then one converging apply: neither
    # stop may leave the site in a state the next apply cannot finish.
    cli("secrets", "rotate", "db_password", "--inventory", str(inventory))
    _interrupt_in_the_database_role(profile, inventory, tmp_path, control_dirs_left,
                                    signal.SIGINT)
    _interrupt_in_the_database_role(profile, inventory, tmp_path, control_dirs_left,
                                    signal.SIGTERM)
    # The next apply converges (the new password reaches PostgreSQL and the app) ...
    converged = cli("apply", "--profile", str(profile), "--inventory", str(inventory),
                    "--force")
    assert changed_tasks(converged.stdout) > 0
    # The app reconnects with the new password: health says the database is fine, and every
    # file (secrets.env, PostgreSQL's role) equals what render makes of the vault.
    status, health = site.request("/health/", auth=False)
    assert status == 200 and health["checks"]["database"]["default"] == "ok", health
    assert_live_hosts_match_render(profile, inventory)
    assert site.manage(Role.web, "check", "--database", "default") is not None
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
