"""Verify the common role on a real (containerised) Debian 12 host."""

from pathlib import Path

import jinja2
import pytest
import yaml

SCENARIO = Path(__file__).resolve().parents[1]
ROLE = SCENARIO.parents[1]
REPO = ROLE.parents[1]


def role_vars():
    """The role's defaults overlaid with the scenario's inputs (what converge used)."""
    values = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    values.update(yaml.safe_load((SCENARIO / "vars.yml").read_text()))
    return values


def render(template, values):
    """Render a shared template exactly like the CLI does (plain jinja2)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(REPO / "templates")),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(template).render(**values)


@pytest.mark.parametrize(
    "package",
    ["nftables", "systemd-timesyncd", "unattended-upgrades", "ca-certificates", "curl", "rsync"],
)
def test_package_installed(host, package):
    assert host.package(package).is_installed


def test_service_users(host):
    ssas = host.user("ssas")
    assert ssas.exists
    assert ssas.uid < 1000, "service users are system users"
    assert ssas.group == "ssas"
    assert ssas.home == "/srv/ssas"
    assert ssas.shell == "/usr/sbin/nologin"
    worker = host.user("ssas-worker")
    assert worker.exists and worker.uid < 1000
    assert worker.shell == "/bin/bash"


@pytest.mark.parametrize(("path", "owner"), [("/srv/ssas", "ssas"), ("/var/lib/ssas-worker", "ssas-worker")])
def test_service_homes(host, path, owner):
    home = host.file(path)
    assert home.is_directory
    assert home.user == owner
    assert home.group == owner
    assert home.mode == 0o750


@pytest.mark.parametrize(
    ("path", "mode", "template"),
    [
        ("/etc/nftables.conf", 0o640, "common/nftables.conf.j2"),
        ("/etc/apt/apt.conf.d/20auto-upgrades", 0o644, "common/20auto-upgrades.j2"),
        ("/etc/apt/apt.conf.d/52ssas-unattended-upgrades", 0o644, "common/52ssas-unattended-upgrades.j2"),
        ("/etc/ssh/sshd_config.d/00-ssas-hardening.conf", 0o644, "common/sshd-hardening.conf.j2"),
    ],
)
def test_config_file_equals_template_rendering(host, path, mode, template):
    config = host.file(path)
    assert config.exists
    assert config.user == "root"
    assert config.group == "root"
    assert config.mode == mode
    assert config.content.decode() == render(template, role_vars())


def test_nftables_enabled_and_loaded(host):
    service = host.service("nftables")
    assert service.is_enabled
    assert service.is_running  # oneshot with RemainAfterExit: active (exited)
    ruleset = host.check_output("nft list ruleset")
    assert "policy drop" in ruleset
    assert 'iif "lo" accept' in ruleset
    assert 'tcp dport 22 accept comment "ssh"' in ruleset
    assert 'ip saddr 10.88.0.10 tcp dport 5432 accept comment "postgresql from app"' in ruleset
    assert "ip saddr { 10.88.0.10, 10.88.1.0/24 } tcp dport 6379 accept" in ruleset
    assert "ip6 saddr fd00::10 tcp dport 6379 accept" in ruleset
    assert 'tcp dport 443 accept comment "https"' in ruleset


def test_timesyncd_enabled(host):
    assert host.service("systemd-timesyncd").is_enabled


def test_unattended_upgrades_security_only(host):
    assert host.service("apt-daily-upgrade.timer").is_enabled
    dump = host.check_output("apt-config dump Unattended-Upgrade::Origins-Pattern")
    origins = [line.split(" ", 1)[1].strip('";') for line in dump.splitlines() if line.startswith("Unattended-Upgrade::Origins-Pattern:: ")]
    assert origins, dump
    assert all("label=Debian-Security" in origin for origin in origins), origins
    periodic = host.check_output("apt-config dump APT::Periodic::Unattended-Upgrade")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic


def test_sshd_takes_keys_only_with_modern_algorithms(host):
    """What sshd really uses (its own view, `sshd -T`), after the role's reload."""
    effective = dict(line.split(" ", 1) for line in host.check_output("sshd -T").splitlines()
                     if " " in line)
    assert effective["passwordauthentication"] == "no"
    assert effective["kbdinteractiveauthentication"] == "no"
    assert effective["permitrootlogin"] == "without-password"
    assert effective["x11forwarding"] == "no"
    assert "cbc" not in effective["ciphers"] and "hmac-sha1" not in effective["macs"].split(",")
    assert host.service("ssh").is_running


def test_sshd_hardening_wins_over_other_drop_ins(host):
    """prepare.yml left cloud-init's `PasswordAuthentication yes` and the former file name."""
    assert host.file("/etc/ssh/sshd_config.d/50-cloud-init.conf").exists
    assert not host.file("/etc/ssh/sshd_config.d/50-ssas-hardening.conf").exists
    assert "passwordauthentication no" in host.check_output("sshd -T").splitlines()
