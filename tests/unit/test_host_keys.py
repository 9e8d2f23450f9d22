"""Host keys pinned before a run (runner.host_keys) and the strategy plugin (workspace)."""

import subprocess

from ssas_deploy.runner.host_keys import (
    forget_host_key,
    host_key_recorded,
    pin_new_host_keys,
)
from ssas_deploy.runner.workspace import mitogen_strategy

from ..conftest import closed_port


def _known_hosts_with(tmp_path, name: str):
    key = tmp_path / "hostkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    key_type, key_data = (tmp_path / "hostkey.pub").read_text().split()[:2]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{name} {key_type} {key_data}\n")
    return known_hosts


def test_a_recorded_key_is_found_by_address_and_port(tmp_path):
    known_hosts = _known_hosts_with(tmp_path, "[10.88.0.7]:2222")
    assert host_key_recorded(known_hosts, "10.88.0.7", 2222)
    assert not host_key_recorded(known_hosts, "10.88.0.7", 22)
    assert not host_key_recorded(known_hosts, "10.88.0.8", 2222)
    assert not host_key_recorded(tmp_path / "absent", "10.88.0.7", 2222)


def test_port_22_is_recorded_under_the_bare_address(tmp_path):
    known_hosts = _known_hosts_with(tmp_path, "10.88.0.7")
    assert host_key_recorded(known_hosts, "10.88.0.7", 22)


def test_an_unreachable_host_is_left_to_the_run_and_nothing_is_written(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    document = {"all": {"hosts": {"web-1": {"ansible_host": "127.0.0.1",
                                            "ansible_port": closed_port(),
                                            "ansible_user": "root"}}}}
    assert pin_new_host_keys(document, known_hosts) == []
    assert not known_hosts.exists() or known_hosts.read_text() == ""


def test_a_pinned_host_is_not_contacted_again(tmp_path):
    # The address is pinned already: no login is tried (a closed port would fail it).
    port = closed_port()
    known_hosts = _known_hosts_with(tmp_path, f"[127.0.0.1]:{port}")
    before = known_hosts.read_text()
    document = {"all": {"hosts": {"web-1": {"ansible_host": "127.0.0.1", "ansible_port": port}}}}
    assert pin_new_host_keys(document, known_hosts) == []
    assert known_hosts.read_text() == before


def test_mitogen_is_the_strategy_unless_the_user_chose_one(monkeypatch):
    monkeypatch.delenv("ANSIBLE_STRATEGY", raising=False)
    chosen = mitogen_strategy()
    assert chosen["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert chosen["ANSIBLE_STRATEGY_PLUGINS"].endswith("ansible_mitogen/plugins/strategy")
    monkeypatch.setenv("ANSIBLE_STRATEGY", "linear")
    assert mitogen_strategy() == {}


def test_forget_host_key_removes_only_that_address(tmp_path):
    known = tmp_path / "known_hosts"
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = " ".join(key.with_suffix(".pub").read_text().split()[:2])
    known.write_text(f"10.0.0.5 {public}\n[10.0.0.6]:2222 {public}\n", encoding="utf-8")
    assert forget_host_key(known, "10.0.0.5", 22)
    assert known.read_text(encoding="utf-8") == f"[10.0.0.6]:2222 {public}\n"
    assert not forget_host_key(known, "10.0.0.5", 22)
    assert forget_host_key(known, "10.0.0.6", 2222)
    assert not forget_host_key(tmp_path / "absent", "10.0.0.5", 22)
