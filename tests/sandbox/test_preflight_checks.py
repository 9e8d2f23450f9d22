"""Preflight's rules on canned host output, and the sandbox's errors: no containers needed."""

import pytest
import typer
from typer.testing import CliRunner

from ssas_deploy.cli import preflight_cmd, sandbox_cmd
from ssas_deploy.errors import OperationFailedError
from ssas_deploy.preflight import checks
from ssas_deploy.preflight.report import HostReport, PreflightReport, Status
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import HostSpec
from ssas_deploy.topology import build_topology

runner = CliRunner()
SPEC = HostSpec(count=1, cpu_cores=4, ram_gib=8, disk_gib=100, storage="ssd")

SS = """\
LISTEN 0      511          0.0.0.0:80        0.0.0.0:*    users:(("nginx",pid=812,fd=6),("nginx",pid=811,fd=6))
LISTEN 0      244        127.0.0.1:5432      0.0.0.0:*    users:(("postgres",pid=700,fd=5))
LISTEN 0      128             [::]:22           [::]:*    users:(("sshd",pid=90,fd=4))
LISTEN 0      5            0.0.0.0:8000      0.0.0.0:*    users:(("python3",pid=1234,fd=3))
LISTEN 0      511                *:6380            *:*
"""  # noqa: E501


def test_parse_listeners_reads_ports_and_processes():
    listeners = checks.parse_listeners(SS)
    assert listeners[80] == {"nginx"}
    assert listeners[5432] == {"postgres"}
    assert listeners[22] == {"sshd"}
    assert listeners[6380] == {"?"}


def test_ports_held_by_our_own_services_are_fine_others_fail():
    small = load_profile("small")
    host = build_topology(small).by_name("web-1")
    needs = checks.required_ports(small, build_topology(small), host)
    assert [n.port for n in needs] == [80, 443, 5432, 6380, 8000]
    ok, message = checks.check_ports(needs, checks.parse_listeners(SS))
    assert not ok
    assert "8000 (gunicorn) is held by python3" in message
    assert "6380 (redis broker) is held by an unknown process" in message
    assert "80 " not in message.split(";")[0][:3]
    ok, message = checks.check_ports(needs, {80: {"nginx"}, 6380: {"redis-server"},
                                             8000: {"gunicorn"}})
    assert ok, message
    assert "already ours" in message
    assert checks.check_ports([], {22: {"sshd"}}) == (True, "no service ports on this host")


def test_required_ports_follow_the_roles_of_each_large_host():
    large = load_profile("large")
    topology = build_topology(large)
    ports = {h.name: [n.port for n in checks.required_ports(large, topology, h)]
             for h in topology.hosts}
    assert ports == {"lb-1": [80, 443], "web-1": [8000], "web-2": [8000], "web-3": [8000],
                     "db-1": [5432], "cache-1": [6379, 6380], "worker-1": [],
                     "backup-1": []}


def test_os_release_debian_12_and_ubuntu_lts_pass_others_fail():
    def verdict(text):
        return checks.check_os(checks.parse_os_release(text))

    assert verdict('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"')[0]
    assert verdict('ID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"')[0]
    ok, message = verdict('ID=debian\nVERSION_ID="11"\nPRETTY_NAME="Debian GNU/Linux 11"')
    assert not ok
    assert "Debian GNU/Linux 11: not supported" in message
    assert not verdict("")[0]


def test_hardware_tolerances():
    assert checks.check_cpu(4, SPEC)[0]
    assert checks.check_cpu(2, SPEC) == (False, "2 cores, profile needs 4")
    # an 8 GiB machine shows ~7.6 GiB MemTotal
    assert checks.check_memory(int(7.6 * 2**20), SPEC)[0]
    assert not checks.check_memory(6 * 2**20, SPEC)[0]
    size, free = checks.parse_df("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
                                 "/dev/vda1 102626232 5000000 92000000 6% /\n")
    assert checks.check_disk(size, free, SPEC)[0]
    assert not checks.check_disk(40 * 2**20, 30 * 2**20, SPEC)[0]


def test_clock_offset_limit_and_ntp_note():
    ok, message = checks.check_clock(0.3, "no")
    assert ok
    assert "NTP not synchronized" in message
    assert not checks.check_clock(-42.0, "yes")[0]


def test_report_exit_codes():
    host = HostReport("web-1", "10.0.0.1", ("web",))
    host.add("cpu", Status.warn, "2 cores, profile needs 4 (continuing: --force)", True)
    report = PreflightReport("small", [host], forced=True)
    assert report.exit_code == 0
    host.add("ports", Status.fail, "8000 held")
    assert report.exit_code == 3
    assert report.failed_hosts == [host]


def test_preflight_needs_an_inventory():
    app = typer.Typer()
    app.command()(preflight_cmd.preflight)
    result = runner.invoke(app, ["--profile", "small"])
    assert result.exit_code == 2
    assert "--inventory" in result.output


def test_sandbox_without_podman_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(sandbox_cmd.app, ["up", "--profile", "small", "--dir",
                                             str(tmp_path / "sb")])
    assert result.exit_code == 1
    assert "podman is not installed" in result.output
    assert "scripts/testhosts.sh setup" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "sb").exists()


def test_missing_image_without_the_build_script_says_how_to_build_it(tmp_path, monkeypatch):
    from ssas_deploy.sandbox import core

    monkeypatch.setattr(core.pm, "image_exists", lambda image: False)
    with pytest.raises(OperationFailedError, match=r"testhosts.sh setup"):
        core.ensure_image("localhost/ssas-none:x", script=tmp_path / "absent.sh")


def test_down_needs_a_profile_or_all():
    result = runner.invoke(sandbox_cmd.app, ["down"])
    assert result.exit_code == 2
    assert "--profile P or --all" in result.output


def test_unnamed_listener_on_a_port_of_an_active_unit_of_ours_is_fine():
    # In containers `ss` cannot name other users' processes; the active unit tells.
    small = load_profile("small")
    topology = build_topology(small)
    needs = checks.required_ports(small, topology, topology.by_name("web-1"))
    unnamed = {5432: {"?"}, 6380: {"?"}, 8000: {"?"}}
    ok, message = checks.check_ports(needs, unnamed)
    assert not ok
    ok, message = checks.check_ports(needs, unnamed, {"postgresql@15-main.service",
                                                      "ssas-redis-broker.service",
                                                      "ssas-gunicorn.service"})
    assert ok, message
    assert "8000 by ssas-gunicorn.service" in message
    ok, message = checks.check_ports(needs, unnamed, {"ssas-gunicorn.service"})
    assert not ok and "5432 (postgresql)" in message
