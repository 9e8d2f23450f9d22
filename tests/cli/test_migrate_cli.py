"""`ssas-deploy migrate` step order and verdicts, with the hosts replaced by a recorder."""

import json

import pytest
from typer.testing import CliRunner

from ssas_deploy.cli.app import app
from ssas_deploy.migration import remote
from ssas_deploy.migration.remote import CopyResult, RemoteError

runner = CliRunner()


def _inventory(path, address):
    path.write_text("ssh: {user: root}\nhosts:\n  web:\n"
                    f"    - {{name: web-1, address: {address}}}\n"
                    f"  backup:\n    - {{name: backup-1, address: {address}1}}\n")
    return path


def _checksums(vendor, students_checksum="c1", sequence_ok=True):
    return json.dumps({"database": "default", "vendor": vendor, "tables": [
        {"table": "students_student", "rows": 3, "checksum": students_checksum, "max_id": 3,
         "next_id": 4, "auto_pk": True, "sequence_ok": sequence_ok},
        {"table": "django_session", "rows": 1, "checksum": "s", "max_id": None,
         "next_id": None, "auto_pk": False, "sequence_ok": None}]})


class Hosts:
    """Answers of the fake hosts, by address; every call recorded in order."""

    def __init__(self, monkeypatch, target_checksums=None, target_answers=None):
        self.calls = []
        self.target_checksums = target_checksums or _checksums("postgresql")
        self.target_answers = target_answers or {"/api/students/1/": {"status": 200,
                                                                      "sha256": "a"}}
        monkeypatch.setattr("ssas_deploy.cli.apply_cmd._apply", self.apply)
        monkeypatch.setattr(remote, "manage", self.manage)
        monkeypatch.setattr(remote, "set_units", self.set_units)
        monkeypatch.setattr(remote, "stream_copy", self.copy)
        monkeypatch.setattr(remote, "file_digests", lambda host, d: {"./r.pdf": "x"})
        monkeypatch.setattr(remote, "media_copy",
                            lambda s, t, d: CopyResult(10, 0.1, ""))
        monkeypatch.setattr(remote, "run_on", lambda host, command, timeout=0: "200")

    def apply(self, profile, inventory, **kwargs):
        self.calls.append(("apply", profile))
        return 0

    def manage(self, host, *args, timeout=0):
        self.calls.append(("manage", host.address, args[0]))
        source = host.address == "192.0.2.10"
        if args[0] == "table_checksums":
            return _checksums("sqlite") if source else self.target_checksums
        if args[0] == "api_sample":
            return json.dumps({"/api/students/1/": {"status": 200, "sha256": "a"}} if source
                              else self.target_answers)
        return ""

    def set_units(self, host, units, action):
        self.calls.append((action, host.address))

    def copy(self, source, target):
        self.calls.append(("copy", source.address, target.address))
        return CopyResult(1000, 0.5, "Imported 4 rows into 2 tables.")


@pytest.fixture
def inventories(tmp_path):
    sqlite = tmp_path / "small-sqlite.yaml"
    sqlite.write_text("name: s\nextends: small\ndatabase: {engine: sqlite}\n")
    return (str(sqlite), _inventory(tmp_path / "old.yaml", "192.0.2.10"),
            _inventory(tmp_path / "new.yaml", "192.0.2.20"))


def _migrate(inventories):
    profile, old, new = inventories
    return runner.invoke(app, ["migrate", "--from-profile", profile, "--from-inventory",
                               str(old), "--to-profile", "medium", "--inventory", str(new),
                               "--yes"])


def test_a_verified_migration_switches_last(monkeypatch, inventories):
    hosts = Hosts(monkeypatch)
    result = _migrate(inventories)
    assert result.exit_code == 0, result.output
    kinds = [c[0] if c[0] != "manage" else c[2] for c in hosts.calls]
    assert kinds == ["apply", "import_tables", "stop", "stop", "copy", "table_checksums",
                     "table_checksums", "start", "api_sample", "api_sample"]
    assert ("stop", "192.0.2.10") in hosts.calls
    assert ("start", "192.0.2.10") not in hosts.calls  # the source stays stopped
    assert "2 tables, 4 rows: every count, checksum and sequence equal" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("  ssh root@192.0.2.10 "
                                                              "systemctl start")
    assert "Point the school's DNS name" in result.output


@pytest.mark.parametrize("target", [_checksums("postgresql", students_checksum="other"),
                                    _checksums("postgresql", sequence_ok=False)])
def test_any_table_difference_exits_1_with_the_source_restart(monkeypatch, inventories,
                                                              target):
    hosts = Hosts(monkeypatch, target_checksums=target)
    result = _migrate(inventories)
    assert result.exit_code == 1, result.output
    assert "DIFFERS" in result.output
    assert "1 of 2 tables differ: students_student" in result.output
    assert "ssh root@192.0.2.10 systemctl start ssas-gunicorn.service" in result.output
    assert not any(c[0] == "start" for c in hosts.calls)  # the target's app stays stopped


def test_different_api_answers_exit_1(monkeypatch, inventories):
    Hosts(monkeypatch, target_answers={"/api/students/1/": {"status": 500, "sha256": "b"}})
    result = _migrate(inventories)
    assert result.exit_code == 1, result.output
    assert "the API answers differently on the target for: /api/students/1/" in result.output


def test_a_non_empty_target_stops_before_the_source_is_touched(monkeypatch, inventories):
    hosts = Hosts(monkeypatch)

    def refuse(host, *args, timeout=0):
        hosts.calls.append(("manage", host.address, args[0]))
        raise RemoteError("web-1: `ssas-env ssas-manage import_tables --check-empty` exited "
                          "1: CommandError: database 'default' is not empty")
    monkeypatch.setattr(remote, "manage", refuse)
    result = _migrate(inventories)
    assert result.exit_code == 1, result.output
    assert "is not empty" in result.output and "The source was not touched." in result.output
    assert not any(c[0] == "stop" for c in hosts.calls)
