"""End to end on real containers: sandbox up/down and preflight against the sandbox."""

import json
import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ssas_deploy.cli import preflight_cmd, sandbox_cmd
from ssas_deploy.errors import OperationFailedError
from ssas_deploy.inventory import load_inventory
from ssas_deploy.profiles.models import Role

pytestmark = pytest.mark.sandbox
runner = CliRunner()

preflight_app = typer.Typer()
preflight_app.command()(preflight_cmd.preflight)


def sandbox(*args):
    return runner.invoke(sandbox_cmd.app, [str(a) for a in args])


def preflight(*args):
    return runner.invoke(preflight_app, [str(a) for a in args])


def containers(name):
    out = subprocess.run(["podman", "ps", "-a", "--filter", f"label=ssas-deploy.sandbox={name}",
                          "--format", "json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out or "[]") or []


def web_host(small_sandbox):
    return next(h for h in small_sandbox["sandbox"].hosts if h.name == "web-1")


def backup_address(small_sandbox) -> str:
    return next(h for h in small_sandbox["sandbox"].hosts if h.name == "backup-1").address


def test_up_writes_a_ready_inventory_and_a_private_key(small_sandbox):
    directory = small_sandbox["directory"]
    inventory = directory / "hosts.yaml"
    placements = load_inventory(inventory, small_sandbox["profile"])
    assert set(placements) == {Role.web, Role.backup}
    assert placements[Role.backup].names == ["backup-1"]
    web = placements[Role.web]
    assert web.names == ["web-1"]
    assert web.addresses[0].startswith("10.88.")
    assert web.ssh[0].user == "root"
    assert web.ssh[0].key_file == str(directory / "id_ed25519")
    assert stat.S_IMODE((directory / "id_ed25519").stat().st_mode) == 0o600
    found = {c["Names"][0]: c for c in containers(small_sandbox["name"])}
    assert set(found) == {f"ssas-sb-{small_sandbox['name']}-web-1",
                          f"ssas-sb-{small_sandbox['name']}-backup-1"}
    container = found[f"ssas-sb-{small_sandbox['name']}-web-1"]
    assert container["State"] == "running"
    assert container["Labels"]["ssas-deploy.sandbox.host"] == "web-1"


def test_up_again_reuses_the_running_container(small_sandbox):
    started = time.monotonic()
    result = sandbox("up", "--profile", small_sandbox["profile_file"],
                     "--dir", small_sandbox["directory"])
    assert result.exit_code == 0, result.output
    assert "reused" in result.output
    assert small_sandbox["sandbox"].hosts[0].address in result.output
    assert "ssas-deploy apply --profile" in result.output
    assert time.monotonic() - started < 30
    assert len(containers(small_sandbox["name"])) == 2


def test_status_lists_the_sandbox(small_sandbox):
    result = sandbox("status", "--profile", small_sandbox["profile_file"])
    assert result.exit_code == 0, result.output
    assert "web-1" in result.output
    assert small_sandbox["sandbox"].hosts[0].address in result.output


def _machine_meets(profile) -> bool:
    meminfo = Path("/proc/meminfo").read_text()
    mem_kib = int(meminfo.split("MemTotal:")[1].split()[0])
    return all((os.cpu_count() or 1) >= spec.cpu_cores and mem_kib / 2**20 >= spec.ram_gib * 0.9
               for spec in (profile.hosts.web, profile.hosts.backup))


def test_preflight_api_on_the_sandbox(small_sandbox):
    from ssas_deploy.cli.options import load_deployment
    from ssas_deploy.preflight import Status, run_preflight

    deployment = load_deployment(str(small_sandbox["profile_file"]),
                                 small_sandbox["directory"] / "hosts.yaml", warn=False)
    report = run_preflight(deployment, force=False)
    assert {h.host for h in report.hosts} == {"web-1", "backup-1"}
    host = next(h for h in report.hosts if h.host == "web-1")
    statuses = {c.name: c.status for c in host.checks}
    for name in ("reachable", "ssh", "sudo", "os", "ports", "clock"):
        assert statuses[name] is Status.ok, host.checks
    hardware = {statuses["cpu"], statuses["memory"]}
    if _machine_meets(small_sandbox["profile"]):
        assert hardware == {Status.ok}
        assert report.exit_code == 0
    else:
        assert Status.fail in hardware
        assert report.exit_code == 3


def test_preflight_cli_passes_on_the_small_profile(small_sandbox):
    if not _machine_meets(small_sandbox["profile"]):
        pytest.skip("this machine is smaller than the small profile")
    result = preflight("--profile", small_sandbox["profile_file"],
                       "--inventory", small_sandbox["directory"] / "hosts.yaml")
    assert result.exit_code == 0, result.output
    assert "meet profile" in result.output


def _shortfall_profile(small_sandbox):
    path = small_sandbox["root"] / "bigcpu.yaml"
    path.write_text("name: bigcpu\nextends: small\nhosts:\n  web: {cpu_cores: 64}\n")
    return path


def test_cpu_shortfall_exits_3_and_force_continues_with_a_warning(small_sandbox):
    inventory = small_sandbox["directory"] / "hosts.yaml"
    profile = _shortfall_profile(small_sandbox)
    result = preflight("--profile", profile, "--inventory", inventory)
    assert result.exit_code == 3, result.output
    assert "profile needs 64" in result.output
    assert "--force" in result.output
    assert "Traceback" not in result.output

    forced = preflight("--profile", profile, "--inventory", inventory, "--force")
    assert forced.exit_code == 0, forced.output
    assert re.search(r"warning: web-1: cpu: \d+ cores, profile needs 64", forced.output)


def test_port_held_by_another_program_fails_even_with_force(small_sandbox):
    container = web_host(small_sandbox).container

    def exec_(*args):
        return subprocess.run(["podman", "exec", container, *args], capture_output=True,
                              text=True, check=False)

    exec_("systemd-run", "--unit", "ssas-test-http", "python3", "-m", "http.server", "8000")
    try:
        for _ in range(50):
            if ":8000 " in exec_("ss", "-ltnH").stdout:
                break
            time.sleep(0.1)
        result = preflight("--profile", small_sandbox["profile_file"], "--inventory",
                           small_sandbox["directory"] / "hosts.yaml", "--force")
        assert result.exit_code == 3, result.output
        assert "8000 (gunicorn) is held by python3" in result.output
    finally:
        exec_("systemctl", "stop", "ssas-test-http")


def test_unreachable_host_exits_3_quickly_naming_it(small_sandbox, tmp_path):
    inventory = tmp_path / "hosts.yaml"
    key = small_sandbox["directory"] / "id_ed25519"
    # The project's own podman bridge; no container has this address.
    inventory.write_text(f"ssh: {{user: root, key_file: {key}}}\n"
                         "hosts:\n  web:\n    - {name: web-1, address: 10.88.255.254}\n"
                         f"  backup:\n    - {{name: backup-1, "
                         f"address: {backup_address(small_sandbox)}}}\n")
    started = time.monotonic()
    result = preflight("--profile", small_sandbox["profile_file"], "--inventory", inventory,
                       "--timeout", "3")
    assert time.monotonic() - started < 10
    assert result.exit_code == 3, result.output
    assert "cannot reach web-1 at 10.88.255.254:22" in result.output


def test_wrong_key_exits_3_naming_user_and_key(small_sandbox, tmp_path):
    from ssas_deploy.sandbox.keys import ensure_keypair

    other_key, _public, _created = ensure_keypair(tmp_path)
    address = web_host(small_sandbox).address
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(f"ssh: {{user: root, key_file: {other_key}}}\n"
                         f"hosts:\n  web:\n    - {{name: web-1, address: {address}}}\n"
                         f"  backup:\n    - {{name: backup-1, "
                         f"address: {backup_address(small_sandbox)}}}\n")
    result = preflight("--profile", small_sandbox["profile_file"], "--inventory", inventory)
    assert result.exit_code == 3, result.output
    assert "authentication failed for user root" in result.output
    assert str(other_key) in result.output.replace("\n", "")


def test_failed_up_removes_what_it_created(sandbox_prerequisites, tmp_path, monkeypatch):
    from ssas_deploy.profiles.loader import load_profile
    from ssas_deploy.sandbox import core

    name = f"t{time.time_ns() % 10**6}-broken"
    profile_file = tmp_path / "p.yaml"
    profile_file.write_text(f"name: {name}\nextends: small\n")

    def boom(host, public_key):
        raise OperationFailedError(f"sshd on {host.name} did not answer")

    monkeypatch.setattr(core, "_ready_host", boom)
    directory = tmp_path / "sb"
    try:
        with pytest.raises(OperationFailedError, match="did not answer"):
            core.up(load_profile(str(profile_file)), directory)
        assert containers(name) == []
        assert not directory.exists()
    finally:
        core.down(name)


def test_down_removes_the_containers_and_purges(small_sandbox):
    result = sandbox("down", "--profile", small_sandbox["profile_file"], "--purge",
                     "--dir", small_sandbox["directory"])
    assert result.exit_code == 0, result.output
    assert f"ssas-sb-{small_sandbox['name']}-web-1" in result.output
    assert containers(small_sandbox["name"]) == []
    assert not (small_sandbox["directory"] / "id_ed25519").exists()
    again = sandbox("down", "--profile", small_sandbox["profile_file"])
    assert again.exit_code == 0
    assert "Removed 0 container(s)" in again.output
