"""Signal guard, stopping every process of a run, and the run directory's secrets file."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from ssas_deploy.runner.interrupts import RunInterrupted, interrupt_guard
from ssas_deploy.runner.processes import RunProcesses, stop_run
from ssas_deploy.runner.workspace import (
    RUN_VAULT_ID,
    RUN_VAULT_PASSWORD_ENV,
    ansible_environment,
    configured_callbacks,
    create_workspace_for_inventory,
    enabled_callbacks,
    inventory_hosts,
    remove_workspace,
)

# -- the signal guard -----------------------------------------------------------------------


def test_guard_restores_the_previous_handlers():
    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        before_int = signal.getsignal(signal.SIGINT)
        with interrupt_guard() as guard:
            assert signal.getsignal(signal.SIGTERM) == guard.handle
            assert signal.getsignal(signal.SIGINT) == guard.handle
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGINT) is before_int
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_guard_raises_outside_a_deferring_section_and_records_inside():
    with interrupt_guard() as guard:
        with guard.deferring():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs here, and must not raise
        assert guard.signum == signal.SIGTERM
        assert guard.count == 1
    with pytest.raises(RunInterrupted) as raised, interrupt_guard():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    assert raised.value.signum == signal.SIGINT


# -- stopping every process of a run ---------------------------------------------------------

def start(code: str) -> subprocess.Popen:
    """A python child leading its own session, like ansible-playbook; ready once it printed."""
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                               start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_stop_run_escalates_past_a_leader_ignoring_sigint_and_sigterm():
    with RunProcesses() as run:
        run.leader = start("""
            import signal, time
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("ready", flush=True)
            time.sleep(60)
        """)
        began = time.monotonic()
        assert stop_run(run, grace=0.5, term_grace=0.5, kill_wait=5)
        assert time.monotonic() - began < 5
        assert run.leader.returncode == -signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreaper: Linux only")
def test_stop_run_gets_workers_in_their_own_session_orphaned_by_a_dead_leader():
    # Like Ansible's workers: a child that calls setsid(), whose parent then dies.
    with RunProcesses() as run:
        run.leader = start("""
            import os, time
            print("ready", flush=True)
            if os.fork() == 0:
                os.setsid()
                print("worker", os.getpid(), flush=True)
                time.sleep(60)
                os._exit(0)
            time.sleep(60)
        """)
        worker = int(run.leader.stdout.readline().split()[1])
        assert alive(worker)
        run.leader.kill()
        run.leader.wait()
        assert worker in run.alive()
        assert stop_run(run, first_signal=signal.SIGTERM, term_grace=2)
        assert not alive(worker)


def test_stop_run_leaves_earlier_children_alone():
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with RunProcesses() as run:
            run.leader = start('print("ready", flush=True); import time; time.sleep(60)')
            assert bystander.pid not in run.alive()
            assert stop_run(run, grace=2)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


# -- the run directory ------------------------------------------------------------------------

INVENTORY = {"all": {"hosts": {"lb-1": {"ansible_host": "10.0.0.1"}},
                     "children": {"web": {"hosts": {"web-1": {}, "web-2": {}}},
                                  "database": {"hosts": {"db-1": {}}}}}}


def test_the_secrets_vars_file_is_vault_encrypted_with_a_one_time_password():
    vault = pytest.importorskip("ansible.parsing.vault")
    secrets = {"db_password": "pw-in-clear-text-nowhere"}
    workspace = create_workspace_for_inventory(INVENTORY, secrets)
    try:
        content = workspace.secrets_vars.read_bytes()
        assert content.startswith(f"$ANSIBLE_VAULT;1.2;AES256;{RUN_VAULT_ID}\n".encode())
        for path in workspace.root.rglob("*"):
            assert b"pw-in-clear-text-nowhere" not in path.read_bytes()
        assert stat.S_IMODE(workspace.root.stat().st_mode) == 0o700
        assert stat.S_IMODE(workspace.secrets_vars.stat().st_mode) == 0o600
        assert workspace.vault_password not in repr(workspace)
        secret = vault.VaultSecret(workspace.vault_password.encode())
        plain = vault.VaultLib([(RUN_VAULT_ID, secret)]).decrypt(content)
        assert json.loads(plain) == {"ssas_secrets": secrets}
        assert workspace.hosts == ("lb-1", "web-1", "web-2", "db-1")
        other = create_workspace_for_inventory(INVENTORY, secrets)
        assert other.vault_password != workspace.vault_password
        other_root = other.root
    finally:
        shutil.rmtree(workspace.root)
        shutil.rmtree(other_root, ignore_errors=True)


def test_inventory_hosts_walks_nested_children():
    document = {"all": {"children": {"a": {"children": {"b": {"hosts": {"x": None}}}}}}}
    assert inventory_hosts(document) == ("x",)


@pytest.mark.parametrize(("configured", "expected"), [
    ("", "ssas_events"),
    ("ansible.posix.profile_tasks", "ansible.posix.profile_tasks,ssas_events"),
    (" timer , ssas_events ", "timer,ssas_events"),
])
def test_enabled_callbacks_keeps_the_users(configured, expected):
    assert enabled_callbacks(configured) == expected


def test_ansible_environment_keeps_the_users_callbacks_and_passes_the_run_password(
        tmp_path, monkeypatch):
    pytest.importorskip("ansible.parsing.vault")
    monkeypatch.setenv("ANSIBLE_CALLBACKS_ENABLED", "timer")
    monkeypatch.setenv("ANSIBLE_CALLBACK_PLUGINS", "/opt/my-callbacks")
    workspace = create_workspace_for_inventory(INVENTORY, {"db_password": "x"})
    try:
        env = ansible_environment(workspace, tmp_path / "known_hosts")
    finally:
        shutil.rmtree(workspace.root)
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == "timer,ssas_events"
    assert env["ANSIBLE_CALLBACK_PLUGINS"].split(os.pathsep)[1] == "/opt/my-callbacks"
    assert env[RUN_VAULT_PASSWORD_ENV] == workspace.vault_password
    assert RUN_VAULT_PASSWORD_ENV not in os.environ
    assert env["ANSIBLE_LOCAL_TEMP"].startswith(str(workspace.root))


def test_a_long_temp_dir_gets_a_short_ssh_control_dir_removed_with_the_run(tmp_path, monkeypatch):
    pytest.importorskip("ansible.parsing.vault")
    long_temp = tmp_path / ("t" * 90)
    long_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_temp))
    workspace = create_workspace_for_inventory(INVENTORY, {"db_password": "x"})
    try:
        env = ansible_environment(workspace, tmp_path / "known_hosts")
        control = Path(env["ANSIBLE_SSH_CONTROL_PATH_DIR"])
        assert workspace.root.parent == long_temp
        # What OpenSSH binds: dir + "/" + 10-char hash + ".XXXXXXXXXXXXXXXX", under 108 bytes.
        assert len(f"{control}/0123456789.0123456789abcdef") < 108
        assert control.is_dir() and stat.S_IMODE(control.stat().st_mode) == 0o700
    finally:
        remove_workspace(workspace)
    assert not workspace.root.exists() and not control.exists()


def test_a_short_temp_dir_keeps_ssh_control_sockets_inside_the_run_dir(tmp_path, monkeypatch):
    pytest.importorskip("ansible.parsing.vault")
    short_temp = Path(tempfile.mkdtemp(prefix="t-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(short_temp))
    try:
        workspace = create_workspace_for_inventory(INVENTORY, {"db_password": "x"})
        env = ansible_environment(workspace, tmp_path / "known_hosts")
        remove_workspace(workspace)
        assert env["ANSIBLE_SSH_CONTROL_PATH_DIR"] == str(workspace.root / "cp")
        assert list(short_temp.iterdir()) == []
    finally:
        shutil.rmtree(short_temp)


def test_callbacks_enabled_in_the_users_ansible_cfg_are_kept(tmp_path, monkeypatch):
    pytest.importorskip("ansible.config.manager")
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\ncallbacks_enabled = ansible.posix.profile_tasks, timer\n")
    monkeypatch.delenv("ANSIBLE_CALLBACKS_ENABLED", raising=False)
    monkeypatch.setenv("ANSIBLE_CONFIG", str(config))
    workspace = create_workspace_for_inventory(INVENTORY, {"db_password": "x"})
    try:
        env = ansible_environment(workspace, tmp_path / "known_hosts")
    finally:
        shutil.rmtree(workspace.root)
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == "ansible.posix.profile_tasks,timer,ssas_events"
    # The variable, when set, is what Ansible itself would take over the file.
    monkeypatch.setenv("ANSIBLE_CALLBACKS_ENABLED", "junit")
    assert configured_callbacks() == "junit"
