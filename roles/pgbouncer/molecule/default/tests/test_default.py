"""Verify the pgbouncer role (with the postgresql role) on a containerised Debian 12 host:
very-large profile, db-1, remote addresses overridden to loopback (see ../vars.yml)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ssas_deploy.rendering import environment

SCENARIO = Path(__file__).resolve().parents[1]
# The repository root: the shared testinfra helpers live in tests/molecule_support.py.
sys.path.insert(0, str(SCENARIO.parents[2]))
from tests.molecule_support import kill_9_and_wait_for_restart  # noqa: E402
INPUTS = yaml.safe_load((SCENARIO / "vars.yml").read_text())
PASSWORD = INPUTS["ssas_secrets"]["db_password"]


@pytest.fixture(scope="module")
def variables():
    """The CLI's variables of very-large/db-1 overlaid with the scenario's inputs (what converge used)."""
    out = subprocess.run(
        [sys.executable, "-m", "ssas_deploy", "hostvars", "--profile", "very-large", "--host", "db-1"],
        check=True, capture_output=True, text=True,
    ).stdout
    return {**json.loads(out), **INPUTS}


def test_pgbouncer_running_and_enabled(host):
    service = host.service("pgbouncer")
    assert service.is_running
    assert service.is_enabled


def test_listening_addresses(host):
    tcp = {str(s) for s in host.socket.get_listening_sockets() if str(s).startswith("tcp")}
    assert {s for s in tcp if s.endswith(":6432")} == {"tcp://127.0.0.1:6432"}
    assert {s for s in tcp if s.endswith(":5432")} <= {"tcp://127.0.0.1:5432", "tcp://::1:5432"}


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/etc/pgbouncer/pgbouncer.ini", "pgbouncer/pgbouncer.ini.j2"),
        ("/etc/postgresql/15/main/postgresql.conf", "postgresql/postgresql.conf.j2"),
        ("/etc/postgresql/15/main/pg_hba.conf", "postgresql/pg_hba.conf.j2"),
        ("/etc/systemd/system/pgbouncer.service.d/ssas-restart.conf", "systemd/ssas-restart.conf.j2"),
    ],
)
def test_config_equals_render(host, variables, path, template):
    assert host.file(path).content_string == environment().get_template(template).render(variables)


@pytest.mark.parametrize("path", ["/etc/pgbouncer/pgbouncer.ini", "/etc/pgbouncer/userlist.txt"])
def test_config_owner_and_mode(host, path):
    config = host.file(path)
    assert config.user == "postgres"
    assert config.group == "postgres"
    assert config.mode == 0o640


def test_userlist_holds_the_scram_verifier_not_the_password(host, variables):
    userlist = host.file("/etc/pgbouncer/userlist.txt").content_string
    verifier = host.check_output(
        f"runuser -u postgres -- psql -XAtq -c \"SELECT rolpassword FROM pg_authid WHERE rolname = '{variables['pgbouncer_user']}'\""
    )
    assert verifier.startswith("SCRAM-SHA-256$")
    assert userlist == f'"{variables["pgbouncer_user"]}" "{verifier}"\n'
    assert PASSWORD not in userlist


def test_login_through_pgbouncer(host, variables):
    cmd = host.run(
        f"PGPASSWORD='{PASSWORD}' psql -XAt 'host=127.0.0.1 port=6432 dbname={variables['pgbouncer_database']} "
        f"user={variables['pgbouncer_user']}' -c 'SELECT 1'"
    )
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip() == "1"


def test_wrong_password_refused_by_pgbouncer(host, variables):
    cmd = host.run(
        f"PGPASSWORD=wrong psql -XAt 'host=127.0.0.1 port=6432 dbname={variables['pgbouncer_database']} "
        f"user={variables['pgbouncer_user']}' -c 'SELECT 1'"
    )
    assert cmd.rc != 0


def test_pool_settings_live(host, variables):
    config = host.check_output("runuser -u postgres -- psql -XAt -F '|' -h /var/run/postgresql -p 6432 -U pgbouncer pgbouncer -c 'SHOW CONFIG'")
    loaded = {line.split("|")[0]: line.split("|")[1] for line in config.splitlines()}
    assert loaded["default_pool_size"] == str(variables["pgbouncer_default_pool_size"])
    assert loaded["max_client_conn"] == str(variables["pgbouncer_max_client_conn"])
    assert loaded["pool_mode"] == "transaction"


def test_restart_dropin_is_live(host):
    """systemd has read the drop-in (the role's handler reloaded it)."""
    dropin = host.file("/etc/systemd/system/pgbouncer.service.d/ssas-restart.conf")
    assert (dropin.user, dropin.group, dropin.mode) == ("root", "root", 0o644)
    assert dropin.path in host.check_output("systemctl show -P DropInPaths pgbouncer.service")
    assert host.check_output("systemctl show -P Restart pgbouncer.service") == "on-failure"
    assert host.check_output("systemctl show -P NeedDaemonReload pgbouncer.service") == "no"


# Last: it kills the pooler.
def test_restarts_after_kill_9(host, variables):
    """Debian's unit has no Restart=; the role's drop-in brings pgbouncer back on its own."""
    kill_9_and_wait_for_restart(host, "pgbouncer.service")
    test_login_through_pgbouncer(host, variables)
