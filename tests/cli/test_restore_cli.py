"""`ssas-deploy restore`: refusals and step order, with the hosts replaced by a recorder."""

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssas_deploy.backups import BackupRow, Listing
from ssas_deploy.cli.app import app
from ssas_deploy.cli.options import load_deployment
from ssas_deploy.migration.remote import RemoteError
from ssas_deploy.restore import hosts as remote
from ssas_deploy.restore.run import execute, prepare

runner = CliRunner()
START = int(datetime(2026, 1, 1, 9, 0, tzinfo=UTC).timestamp())
FULL = BackupRow("ssas", "20260101-090000F", "full", START, START + 60, 1, 1, 1, "", "")
CHECKSUMS = json.dumps({"database": "default", "vendor": "postgresql", "tables": [
    {"table": "students_student", "rows": 420, "checksum": "0123456789abcdef0123"}]})


class Hosts:
    """The fake hosts' answers; every call that would change or check something, in order."""

    def __init__(self, monkeypatch, backups=(FULL,), holding=True, fail=None,
                 unreachable=()):
        self.calls, self.rows, self.holding = [], list(backups), holding
        self.fail, self.unreachable = fail, unreachable
        for name in ("probe", "backups", "media_snapshots", "set_units", "restore_database",
                     "start_database", "wait_promoted", "restore_media", "manage",
                     "http_status", "check_stanza", "archive_now"):
            monkeypatch.setattr(remote, name, getattr(self, name))
        monkeypatch.setattr("ssas_deploy.restore.run.time.sleep", lambda s: None)

    def _record(self, *call):
        self.calls.append(call)
        if self.fail and call[0] == self.fail:
            raise RemoteError(f"{call[1]}: `{self.fail}` exited 1: it broke")

    def probe(self, host, database):
        if host.name in self.unreachable:
            raise RemoteError(f"cannot reach {host.name} at {host.address}:22: refused")
        return database and self.holding

    def backups(self, repo):
        listing = Listing()
        listing.backups = list(self.rows)
        return listing

    def media_snapshots(self, host):
        return [{"id": "5e1f00aa" * 8, "time": "2026-01-01T10:00:00.5Z"}]

    def set_units(self, host, units, action):
        self._record(action, host.name, tuple(units))

    def restore_database(self, target):
        self._record("pgbackrest restore", target.host.name, target.stanza, target.options)

    def start_database(self, host):
        self._record("start postgresql", host.name)

    def wait_promoted(self, host, timeout=0):
        self._record("promoted", host.name)

    def restore_media(self, target):
        self._record("restic restore", target.host.name, target.snapshot[:8])

    def manage(self, host, *args):
        self._record("manage", host.name, args[0])
        return CHECKSUMS if args[0] == "table_checksums" else ""

    def http_status(self, host, url):
        self._record("ready", host.name, url.split("/")[0])
        return "200"

    def check_stanza(self, repo, stanza):
        self._record("pgbackrest check", repo.name, stanza)

    def archive_now(self, host, repo, stanza):
        self._record("archive now", host.name, repo.name, stanza)


VAULT_PASSWORD = "restore-test-vault-password"


@pytest.fixture(autouse=True)
def vault_password(monkeypatch):
    """--to-host opens the deployment's vault before anything changes (its applies need it)."""
    monkeypatch.setenv("SSAS_VAULT_PASSWORD", VAULT_PASSWORD)


def with_vault(inventory: Path) -> Path:
    """The vault a deployment has beside its inventory after its first apply."""
    from ssas_deploy.secrets.store import SecretStore

    SecretStore(inventory).load_or_create()  # the password: SSAS_VAULT_PASSWORD (fixture)
    return inventory


@pytest.fixture
def inventory(tmp_path, vault_password):
    path = tmp_path / "hosts.yaml"
    path.write_text("ssh: {user: root}\nhosts:\n  web:\n    - {name: web-1, address: 192.0.2.10}\n"
                    "  backup:\n    - {name: backup-1, address: 192.0.2.11}\n")
    return with_vault(path)


def _restore_profile(inventory, profile, *extra):
    result = runner.invoke(app, ["restore", "-i", str(inventory), "-p", profile, *extra])
    output = result.output + result.stderr
    assert "Traceback" not in output
    return result.exit_code, output


def _restore(inventory, *extra):
    return _restore_profile(inventory, "small", *extra)


def test_latest_restore_runs_every_step_in_order(monkeypatch, inventory):
    hosts = Hosts(monkeypatch)
    code, output = _restore(inventory, "--yes")
    assert code == 0, output
    kinds = [c[0] if c[0] != "manage" else c[2] for c in hosts.calls]
    assert kinds == ["archive now", "stop", "stop", "pgbackrest restore", "start postgresql",
                     "promoted",
                     "restic restore", "check", "migrate", "table_checksums", "start",
                     "ready", "ready", "pgbackrest check"]
    assert hosts.calls[0] == ("archive now", "web-1", "backup-1", "ssas")
    app_units = hosts.calls[1][2]
    assert "ssas-gunicorn.service" in app_units and "ssas-celery-beat.service" in app_units
    assert any(u.startswith("ssas-celery-") and "beat" not in u for u in app_units)
    assert hosts.calls[2] == ("stop", "web-1", ("postgresql@15-main.service",))
    assert hosts.calls[3] == ("pgbackrest restore", "web-1", "ssas", ())
    assert hosts.calls[-1] == ("pgbackrest check", "backup-1", "ssas")
    assert "students_student" in output and "420" in output and "0123456789abcdef" in output
    assert "Timings" in output and "Restored in" in output


def test_at_restores_to_that_moment(monkeypatch, inventory):
    hosts = Hosts(monkeypatch)
    code, output = _restore(inventory, "--at", "2026-01-01 10:00:01", "--yes")
    assert code == 0, output
    restored = next(c for c in hosts.calls if c[0] == "pgbackrest restore")
    assert restored[3] == ("--type=time", "--target=2026-01-01 10:00:01+00",
                           "--target-action=promote")


def test_without_yes_and_no_terminal_nothing_is_stopped(monkeypatch, inventory):
    hosts = Hosts(monkeypatch)
    code, output = _restore(inventory)
    assert code == 2, output
    assert "pass --yes" in output and "web-1 hold(s) a database now" in output
    assert hosts.calls == []


@pytest.mark.parametrize("extra, backups, message", [
    ((), (), "stanza ssas has no backup"),
    (("--backup", "20200101-000000F"), (FULL,), "names no backup of stanza ssas"),
    (("--at", "2001-01-01 00:00:00"), (FULL,), "before the oldest backup of stanza ssas"),
    (("--at", "2999-01-01 00:00:00"), (FULL,), "is in the future"),
    (("--at", "2026-01-01 10:00:00", "--backup", FULL.label), (FULL,), "exclude each other"),
])
def test_refusals_exit_2_before_anything_changes(monkeypatch, inventory, extra, backups,
                                                 message):
    hosts = Hosts(monkeypatch, backups=backups)
    code, output = _restore(inventory, *extra, "--yes")
    assert code == 2, output
    assert message in output
    assert hosts.calls == []


def test_an_unreachable_host_is_named_exit_2(monkeypatch, inventory):
    hosts = Hosts(monkeypatch, unreachable=("backup-1",))
    code, output = _restore(inventory, "--yes")
    assert code == 2, output
    assert "cannot reach backup-1" in output and "nothing was changed" in output
    assert hosts.calls == []


def test_a_failed_step_names_step_and_host_and_the_way_back(monkeypatch, inventory):
    hosts = Hosts(monkeypatch, fail="pgbackrest restore")
    code, output = _restore(inventory, "--yes")
    assert code == 1, output
    assert "restore failed at 'pgbackrest restore of ssas' on web-1" in output
    assert "--inventory" in output and "--yes" in output
    assert "ssh root@192.0.2.10 'systemctl stop postgresql@15-main.service && install -d" in output
    assert "runuser -u postgres -- pgbackrest --stanza=ssas --delta" in output
    assert "ssh root@192.0.2.10 'systemctl start ssas-gunicorn.service" in output
    assert "ssh root@192.0.2.10 'systemctl reset-failed postgresql@15-main.service; " in output
    assert not any(c[0] == "start" for c in hosts.calls)


def test_really_unreachable_hosts_exit_2(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "hosts.yaml"
    path.write_text(f"ssh: {{user: root, port: {port}}}\nhosts:\n"
                    "  web:\n    - {name: web-1, address: 127.0.0.1}\n"
                    "  backup:\n    - {name: nas-1, address: 127.0.0.2}\n")
    code, output = _restore(path, "--yes")
    assert code == 2, output
    assert "cannot reach" in output and "nas-1" in output and "web-1" in output


def test_every_shard_stanza_and_database_host_is_covered(monkeypatch):
    deployment = load_deployment("very-large", None, warn=False)
    shards = [BackupRow(f"ssas-shard-{n}", f"2026113{n}-100000F", "full", FULL.start,
                        FULL.stop, 1, 1, 1, "", "") for n in range(4)]
    hosts = Hosts(monkeypatch, backups=(FULL, *shards))
    plan = prepare(deployment, None, ())
    assert [s.stanza for s in plan.stanzas] == ["ssas"] + [f"ssas-shard-{n}" for n in range(4)]
    execute(deployment, plan)
    restored = [c[2] for c in hosts.calls if c[0] == "pgbackrest restore"]
    assert restored == [s.stanza for s in plan.stanzas]
    stopped_db = [c[1] for c in hosts.calls if c[:1] == ("stop",)
                  and c[2] == ("postgresql@15-main.service",)]
    assert stopped_db == [s.host.name for s in plan.stanzas]
    assert any(c[0] == "stop" and c[2] == ("pgbouncer.service",) for c in hosts.calls)
    assert [c[2] for c in hosts.calls if c[0] == "pgbackrest check"] == restored


def test_a_database_that_cannot_archive_now_does_not_stop_the_restore(monkeypatch, inventory):
    # The disaster case: PostgreSQL is down, so the restore uses the WAL already archived.
    hosts = Hosts(monkeypatch, fail="archive now")
    code, output = _restore(inventory, "--yes")
    assert code == 0, output
    assert "cannot archive now" in output
    assert hosts.calls[1][0] == "stop" and hosts.calls[-1][0] == "pgbackrest check"


# -- --to-host: a new machine in place of a lost database host -----------------------------

class Applies:
    """Records the two applies of --to-host (limit, extra vars) in the hosts' call list."""

    def __init__(self, monkeypatch, hosts, fail=False):
        self.hosts, self.fail = hosts, fail
        self.vault_password_files = []
        monkeypatch.setattr("ssas_deploy.cli.restore_cmd._apply_run", self.run)

    def run(self, deployment, profile_ref, inventory, limit, extra_vars, what,
            vault_password_file=None):
        from ssas_deploy.errors import OperationFailedError

        self.vault_password_files.append(vault_password_file)
        database = deployment.topology.by_name("web-1")
        self.hosts.calls.append(("apply", limit, tuple(sorted(extra_vars.items())),
                                 database.address))
        if self.fail:
            raise OperationFailedError(f"{what} failed (exit 1)")


def test_to_host_sets_up_restores_then_points_every_host_at_the_new_machine(monkeypatch,
                                                                              inventory):
    hosts = Hosts(monkeypatch, holding=False)
    Applies(monkeypatch, hosts)
    original = inventory.read_text()
    code, output = _restore(inventory, "--to-host", "web-1=192.0.2.20", "--yes")
    assert code == 0, output
    kinds = [c[0] if c[0] != "manage" else c[2] for c in hosts.calls]
    assert kinds == ["apply", "stop", "stop", "pgbackrest restore", "start postgresql",
                     "promoted", "restic restore", "start", "apply", "check", "migrate",
                     "table_checksums", "ready", "ready", "pgbackrest check"]
    assert hosts.calls[0] == ("apply", "web-1,backup-1",
                              (("backup_replacing_database", True),), "192.0.2.20")
    assert hosts.calls[8] == ("apply", None, (), "192.0.2.20")
    # The old machine is gone: nothing is archived from it; the new address is in place.
    assert "web-1 is a new machine" in output
    assert "{name: web-1, address: 192.0.2.20}" in inventory.read_text()
    assert (inventory.parent / "hosts.yaml.before-restore").read_text() == original
    record = json.loads((inventory.parent / "hosts.last-restore.json").read_text())
    assert record["to_host"] == ["web-1"] and record["tables"] == 1 and record["rows"] == 420
    assert not list(inventory.parent.glob(".hosts.yaml*"))


def test_to_host_refusals_leave_the_inventory_as_it_was(monkeypatch, inventory):
    hosts = Hosts(monkeypatch)
    Applies(monkeypatch, hosts)
    original = inventory.read_text()
    code, output = _restore(inventory, "--to-host", "backup-1=192.0.2.30", "--yes")
    assert code == 2 and "backup-1: not a database host" in output, output
    code, output = _restore(inventory, "--to-host", "web-1=192.0.2.20")  # no --yes, no tty
    assert code == 2 and "pass --yes" in output, output
    assert "(a new machine at 192.0.2.20)" in output
    code, output = _restore(inventory, "--to-host", "web-1=bad address", "--yes")
    assert code == 2 and "NAME=ADDRESS" in output, output
    assert hosts.calls == []
    assert inventory.read_text() == original
    assert sorted(p.name for p in inventory.parent.iterdir()) == ["hosts.secrets.vault.yml",
                                                                   "hosts.yaml"]


def test_a_failed_setup_names_the_step_and_the_command_to_run_again(monkeypatch, inventory):
    hosts = Hosts(monkeypatch, holding=False)
    Applies(monkeypatch, hosts, fail=True)
    code, output = _restore(inventory, "--to-host", "web-1=192.0.2.20", "--yes")
    assert code == 1, output
    assert "restore failed at 'set up the replacement database host(s)" in output
    assert (f"ssas-deploy restore --inventory {inventory} --profile small --to-host web-1 "
            "--yes") in output
    assert [c[0] for c in hosts.calls] == ["apply"]


def test_a_rewritten_inventory_that_is_invalid_names_the_users_file(monkeypatch, inventory):
    hosts = Hosts(monkeypatch)
    Applies(monkeypatch, hosts)
    original = inventory.read_text()
    # The backup host's address: two hosts on one address is refused by the inventory check.
    code, output = _restore(inventory, "--to-host", "web-1=192.0.2.11", "--yes")
    assert code == 2, output
    assert f"{inventory}:" in output and "with --to-host web-1=192.0.2.11" in output
    assert ".to-host" not in output
    assert inventory.read_text() == original and hosts.calls == []
    assert sorted(p.name for p in inventory.parent.iterdir()) == ["hosts.secrets.vault.yml",
                                                                   "hosts.yaml"]


def test_to_host_probes_every_host_of_the_deployment(monkeypatch, tmp_path):
    hosts = Hosts(monkeypatch, unreachable=("cache-1",))
    inventory = tmp_path / "hosts.yaml"
    example = (Path(__file__).resolve().parents[2] / "inventories" / "large.example.yaml")
    inventory.write_text(example.read_text())
    with_vault(inventory)
    code, output = _restore_profile(inventory, "large", "--to-host", "db-1", "--yes")
    assert code == 2 and "cannot reach cache-1" in output, output
    assert hosts.calls == []


OLD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILmmXEtWwRUGfWGTLzPb0tFFAYKNu4J2ayZiYpptDhF4"


@pytest.mark.parametrize("to_host", ["web-1", "web-1=192.0.2.20"])
def test_to_host_forgets_the_replaced_key_before_any_probe_and_pins_in_the_real_file(
        monkeypatch, inventory, to_host):
    from ssas_deploy.restore.plan import RestoreRefused

    known = inventory.with_name("hosts.known_hosts")
    address = to_host.partition("=")[2] or "192.0.2.10"
    known.write_text(f"{address} {OLD_KEY}\n192.0.2.11 {OLD_KEY}\n")
    seen = {}

    def probing_prepare(deployment, *args, **kwargs):
        seen["files"] = {h.ssh.known_hosts for h in deployment.topology.hosts}
        seen["pins"] = known.read_text()
        raise RestoreRefused("stopped by the test")

    monkeypatch.setattr("ssas_deploy.restore.run.prepare", probing_prepare)
    code, output = _restore(inventory, "--to-host", to_host, "--yes")
    assert code == 2 and "stopped by the test" in output, output
    # The staged copy of a rewritten inventory pins in the inventory's own file.
    assert seen["files"] == {str(known.resolve())}
    # The replaced machine's old key is gone before the first probe; the others stay.
    assert seen["pins"] == f"192.0.2.11 {OLD_KEY}\n"
    assert sorted(p.name for p in inventory.parent.iterdir()) == [
        "hosts.known_hosts", "hosts.secrets.vault.yml", "hosts.yaml"]


def test_a_refused_to_host_restore_leaves_the_pinned_keys_as_they_were(monkeypatch, inventory):
    known = inventory.with_name("hosts.known_hosts")
    pins = f"192.0.2.10 {OLD_KEY}\n192.0.2.11 {OLD_KEY}\n"
    known.write_text(pins)
    Hosts(monkeypatch, unreachable=("backup-1",))
    code, output = _restore(inventory, "--to-host", "web-1", "--yes")
    assert code == 2 and "nothing was changed" in output, output
    assert known.read_text() == pins
    Hosts(monkeypatch)
    code, output = _restore(inventory, "--to-host", "web-1")  # not confirmed: no terminal
    assert code == 2 and "pass --yes" in output, output
    assert known.read_text() == pins


def test_to_host_without_the_vault_password_changes_nothing(monkeypatch, inventory):
    hosts = Hosts(monkeypatch, holding=False)
    Applies(monkeypatch, hosts)
    monkeypatch.delenv("SSAS_VAULT_PASSWORD")
    original = inventory.read_text()
    known_hosts = inventory.parent / "hosts.known_hosts"
    known_hosts.write_text("192.0.2.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeep\n")
    code, output = _restore(inventory, "--to-host", "web-1=192.0.2.20", "--yes")
    assert code == 2, output
    assert "vault" in output.lower() and "password" in output.lower(), output
    assert hosts.calls == []
    assert inventory.read_text() == original
    assert "AAAAIKeep" in known_hosts.read_text()


def test_to_host_hands_the_vault_password_file_to_both_applies(monkeypatch, inventory):
    hosts = Hosts(monkeypatch, holding=False)
    applies = Applies(monkeypatch, hosts)
    monkeypatch.delenv("SSAS_VAULT_PASSWORD")
    password = inventory.parent / "vault-password"
    password.write_text("restore-test-vault-password\n")
    password.chmod(0o600)
    code, output = _restore(inventory, "--to-host", "web-1=192.0.2.20", "--yes",
                            "--vault-password-file", str(password))
    assert code == 0, output
    assert applies.vault_password_files == [password, password]


def test_to_host_without_the_vault_is_refused(monkeypatch, inventory):
    hosts = Hosts(monkeypatch, holding=False)
    Applies(monkeypatch, hosts)
    (inventory.parent / "hosts.secrets.vault.yml").unlink()
    original = inventory.read_text()
    code, output = _restore(inventory, "--to-host", "web-1=192.0.2.20", "--yes")
    assert code == 2 and "secrets vault is not here" in output, output
    assert hosts.calls == [] and inventory.read_text() == original
    assert sorted(p.name for p in inventory.parent.iterdir()) == ["hosts.yaml"]
