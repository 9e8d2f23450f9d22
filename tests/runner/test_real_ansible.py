"""The runner against the real ansible-playbook: local connection, no SSH, no containers.

Each test starts tests/runner/driver.py (the same code path as `ssas-deploy apply` after
preflight) as a subprocess with its own TMPDIR, so the run directory and every file Ansible
writes can be inspected, and interrupts or kills it while the playbook's sleep task runs.
"""

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO

pytest.importorskip("ansible.parsing.vault")
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
pytestmark = pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(),
                                reason="ansible-playbook is not installed beside this python")

SECRET = "s3cret-" + uuid.uuid4().hex  # unique: found on disk only if we leaked it


class Run:
    """One driver process and the places it writes to."""

    def __init__(self, tmp_path: Path, sleep: float, extra_env: dict[str, str] | None = None):
        self.marker = f"ssas-test-marker-{uuid.uuid4().hex}"
        self.tmp_path = tmp_path
        self.tmpdir = tmp_path / "tmp"
        self.out_dir = tmp_path / "out"
        self.digest = self.out_dir / "digest"
        self.tmpdir.mkdir()
        self.out_dir.mkdir()
        self.stdout_path = tmp_path / "driver.stdout"
        self.stderr_path = tmp_path / "driver.stderr"
        env = {**os.environ, "TMPDIR": str(self.tmpdir), "SSAS_TEST_SECRET": SECRET,
               "SSAS_TEST_MARKER": self.marker,
               "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote-tmp"), **(extra_env or {})}
        with self.stdout_path.open("w") as stdout, self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.runner.driver", "--sleep", str(sleep),
                 "--digest-file", str(self.digest), "--out-dir", str(self.out_dir)],
                cwd=REPO, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)

    def wait_for_marker(self, timeout: float = 20.0) -> None:
        """Until the sleep task's process runs (fails if the driver ends first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if processes_with(self.marker):
                return
            if self.process.poll() is not None:
                pytest.fail(f"the driver ended early ({self.process.returncode}):\n"
                            f"{self.output()}")
            time.sleep(0.1)
        self.process.kill()
        pytest.fail(f"the sleep task never started:\n{self.output()}")

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"the driver did not end within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def run_dirs(self) -> list[Path]:
        return sorted(self.tmpdir.glob("ssas-run-*"))

    def leftovers(self) -> list[str]:
        """Live processes of this run: the sleep task, or anything naming its temp dir."""
        return processes_with(self.marker) + processes_with(f"{self.tmpdir}/ssas-run-")

    def files_with_secret(self) -> list[Path]:
        return [path for path in self.tmp_path.rglob("*")
                if path.is_file() and SECRET.encode() in path.read_bytes()]

    def kill_leftovers(self) -> None:
        for pid in processes_with(self.marker) + processes_with(str(self.tmpdir)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def processes_with(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.fixture
def run(tmp_path):
    runs: list[Run] = []

    def start(sleep: float, extra_env: dict[str, str] | None = None) -> Run:
        runs.append(Run(tmp_path, sleep, extra_env))
        return runs[-1]

    yield start
    for started in runs:  # never leave a stray Ansible behind, even when a test failed
        if started.process.poll() is None:
            started.process.kill()
            started.process.wait()
        started.kill_leftovers()


def assert_nothing_left(run: Run) -> None:
    time.sleep(0.5)  # a short grace for processes that are on their way out
    assert run.leftovers() == [], run.output()
    assert run.run_dirs() == [], run.output()
    # (A module killed mid-run may leave its payload dir in TMPDIR: with a local connection
    # the control node is also the managed host. It must hold no secret either.)
    assert run.files_with_secret() == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_ansible_and_removes_the_run_dir(run, signum):
    started = run(sleep=30)
    started.wait_for_marker()
    assert len(started.run_dirs()) == 1
    started.process.send_signal(signum)
    code = started.wait()
    output = started.output()
    # Usually SIGINT alone stops Ansible within a second; once in a loaded run it took the
    # escalation to SIGTERM after the 20 s grace. The user-facing guarantees are asserted here
    # either way: exit 130, no process of the run left, no run dir, no clear-text secret.
    assert code == 130, output
    assert f"interrupted ({signum.name}): Ansible was stopped" in output
    assert "localhost: task 'Sleep with the marker'" in output
    assert "Re-run `ssas-deploy apply`" in output
    assert "Traceback" not in output
    assert "task(s) changed" not in output
    assert_nothing_left(started)


def test_ansible_killed_from_outside_fails_without_claiming_success(run):
    started = run(sleep=30)
    started.wait_for_marker()
    (leader,) = children_of(started.process.pid)  # ansible-playbook, leader of its group
    os.kill(leader, signal.SIGKILL)
    code = started.wait()
    output = started.output()
    assert code == 1, output
    assert "ansible-playbook ended (killed by signal 9, SIGKILL) without its final stats" in output
    assert "cannot be proven to have succeeded" in output
    assert "task(s) changed" not in output
    assert "Traceback" not in output
    # The workers the dead leader left behind (and their sleep task) were stopped too.
    assert_nothing_left(started)


def test_secrets_reach_the_playbook_but_never_the_disk_in_clear(run, tmp_path):
    tree = tmp_path / "tree"
    started = run(sleep=4, extra_env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree",
                                      "ANSIBLE_CALLBACK_TREE_DIR": str(tree)})
    started.wait_for_marker()
    (run_dir,) = started.run_dirs()
    vars_file = run_dir / "secrets.vault.yml"
    content = vars_file.read_bytes()
    assert content.startswith(b"$ANSIBLE_VAULT;1.2;AES256;ssas-run\n")
    assert SECRET.encode() not in content
    assert vars_file.stat().st_mode & 0o777 == 0o600
    assert run_dir.stat().st_mode & 0o777 == 0o700
    assert started.files_with_secret() == []
    code = started.wait()
    output = started.output()
    assert code == 0, output
    assert "1 task(s) changed." in output
    assert started.digest.read_text() == hashlib.sha256(SECRET.encode()).hexdigest()
    # The user's own callback still ran beside ssas_events.
    assert (tree / "localhost").is_file(), output
    assert_nothing_left(started)


def test_vault_password_script_prints_the_run_password_only():
    script = REPO / "ssas_deploy" / "ansible_plugins" / "vault_run_password.sh"
    assert os.access(script, os.X_OK)
    shown = subprocess.run([script], env={"SSAS_RUN_VAULT_PASSWORD": "pw-123"},
                           capture_output=True, text=True, check=True)
    assert shown.stdout == "pw-123\n"
    missing = subprocess.run([script], env={}, capture_output=True, text=True)
    assert missing.returncode != 0 and missing.stdout == ""
