"""Verify the postgresql role on a real (containerised) Debian 12 host: small profile, web-1."""

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
PASSWORD = yaml.safe_load((SCENARIO / "vars.yml").read_text())["ssas_secrets"]["db_password"]


@pytest.fixture(scope="module")
def variables():
    """The CLI's variables of small/web-1 overlaid with the scenario's inputs (what converge used)."""
    out = subprocess.run(
        [sys.executable, "-m", "ssas_deploy", "hostvars", "--profile", "small", "--host", "web-1"],
        check=True, capture_output=True, text=True,
    ).stdout
    values = json.loads(out)
    values.update(yaml.safe_load((SCENARIO / "vars.yml").read_text()))
    return values


def psql(host, sql, database="postgres"):
    return host.check_output(f"runuser -u postgres -- psql -XAtq -d {database} -c \"{sql}\"")


def test_server_running_and_enabled(host):
    assert host.service("postgresql").is_enabled
    cluster = host.service("postgresql@15-main")
    assert cluster.is_running
    assert cluster.is_enabled


def loopback_addresses(host):
    """What listen_addresses = 'localhost' means on this host (podman's /etc/hosts maps
    localhost to 127.0.0.1 only; a Debian install also to ::1)."""
    resolved = {line.split()[0] for line in host.check_output("getent ahosts localhost").splitlines()}
    assert resolved <= {"127.0.0.1", "::1"}
    return sorted(resolved)


def test_listens_on_loopback_only(host):
    listening = {str(s) for s in host.socket.get_listening_sockets() if str(s).startswith("tcp") and str(s).endswith(":5432")}
    assert listening == {f"tcp://{address}:5432" for address in loopback_addresses(host)}
    assert host.socket("unix:///var/run/postgresql/.s.PGSQL.5432").is_listening


@pytest.mark.parametrize(
    ("path", "template", "owner", "mode"),
    [
        ("/etc/postgresql/15/main/postgresql.conf", "postgresql/postgresql.conf.j2", "postgres", 0o644),
        ("/etc/postgresql/15/main/pg_hba.conf", "postgresql/pg_hba.conf.j2", "postgres", 0o640),
        ("/etc/systemd/system/postgresql@15-main.service.d/ssas-restart.conf", "systemd/ssas-restart.conf.j2", "root", 0o644),
    ],
)
def test_config_equals_render(host, variables, path, template, owner, mode):
    config = host.file(path)
    assert config.user == owner
    assert config.group == owner
    assert config.mode == mode
    expected = environment().get_template(template).render(variables)
    assert config.content_string == expected


def test_rendered_settings_are_live(host, variables):
    assert psql(host, "SHOW shared_buffers") == variables["postgresql_settings"]["shared_buffers"]
    assert psql(host, "SHOW max_connections") == str(variables["postgresql_settings"]["max_connections"])
    assert psql(host, "SHOW shared_preload_libraries") == "pg_stat_statements"
    assert psql(host, "SHOW password_encryption") == "scram-sha-256"
    assert psql(host, "SELECT count(*) FROM pg_settings WHERE pending_restart") == "0"
    assert psql(host, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL") == "0"


def test_app_role_logs_in_over_tcp_with_scram(host, variables):
    for address in loopback_addresses(host):
        cmd = host.run(
            f"PGPASSWORD='{PASSWORD}' psql -XAtq -h {address} -U {variables['postgresql_user']} "
            f"-d {variables['postgresql_database']} -c 'SELECT current_user, current_database()'"
        )
        assert cmd.rc == 0, cmd.stderr
        assert cmd.stdout.strip() == f"{variables['postgresql_user']}|{variables['postgresql_database']}"
    verifier = psql(host, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{variables['postgresql_user']}'")
    assert verifier.startswith("SCRAM-SHA-256$")


def test_wrong_password_is_refused(host, variables):
    cmd = host.run(f"PGPASSWORD=wrong psql -XAtq -h 127.0.0.1 -U {variables['postgresql_user']} -d postgres -c 'SELECT 1'")
    assert cmd.rc != 0
    assert "password authentication failed" in cmd.stderr


def test_password_not_in_server_log(host):
    log = host.run("cat /var/log/postgresql/postgresql-15-main.log").stdout
    assert PASSWORD not in log


def test_pg_stat_statements_in_app_database(host, variables):
    database = variables["postgresql_database"]
    assert psql(host, "SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'", database) == "pg_stat_statements"
    assert int(psql(host, "SELECT count(*) FROM pg_stat_statements", database)) >= 0


def test_app_database_owned_by_app_role(host, variables):
    owner = psql(host, f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{variables['postgresql_database']}'")
    assert owner == variables["postgresql_user"]


def test_restart_dropin_is_live(host):
    """systemd has read the drop-in (the role's handler reloaded it)."""
    unit = "postgresql@15-main.service"
    assert "/etc/systemd/system/postgresql@15-main.service.d/ssas-restart.conf" in host.check_output(f"systemctl show -P DropInPaths {unit}")
    assert host.check_output(f"systemctl show -P Restart {unit}") == "on-failure"
    assert host.check_output(f"systemctl show -P NeedDaemonReload {unit}") == "no"


# Last: it kills the server.
def test_restarts_after_kill_9(host, variables):
    """Debian's unit has no Restart=; the role's drop-in brings the cluster back on its own."""
    kill_9_and_wait_for_restart(host, "postgresql@15-main.service")
    assert psql(host, "SELECT 1") == "1"
    for address in loopback_addresses(host):
        cmd = host.run(
            f"PGPASSWORD='{PASSWORD}' psql -XAtq -h {address} -U {variables['postgresql_user']} "
            f"-d {variables['postgresql_database']} -c 'SELECT 1'"
        )
        assert cmd.rc == 0, cmd.stderr
