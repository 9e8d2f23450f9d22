"""`ssas-deploy users`: the password file, what goes to the host, refusals, the listing."""

import json

import pytest
from typer.testing import CliRunner

from ssas_deploy.cli.app import app
from ssas_deploy.migration.remote import RemoteError

runner = CliRunner()


class Host:
    def __init__(self, monkeypatch, fail: str | None = None, answer: str = ""):
        self.calls, self.fail, self.answer = [], fail, answer
        monkeypatch.setattr("ssas_deploy.migration.remote.manage", self.manage)

    def manage(self, host, *args, timeout=0, stdin=None):
        self.calls.append((host.name, args, stdin))
        if self.fail:
            raise RemoteError(f"{host.name}: `ssas-env ssas-manage ...` {self.fail}")
        return self.answer


def _users(*args):
    result = runner.invoke(app, ["users", *args])
    output = result.output + result.stderr
    assert "Traceback" not in output
    return result.exit_code, output


def test_create_writes_the_password_once_and_sends_it_on_stdin_only(monkeypatch, inventory,
                                                                    tmp_path):
    host = Host(monkeypatch)
    secret = tmp_path / "ms-lee.password"
    code, output = _users("create", "ms-lee", "--role", "teacher", "--email", "l@s.example",
                          "--password-file", str(secret), "-i", str(inventory), "-p", "small")
    assert code == 0, output
    password = secret.read_text().strip()
    assert len(password) >= 20 and secret.stat().st_mode & 0o777 == 0o600
    assert host.calls == [("web-1", ("ssas_users", "create", "ms-lee", "--role", "teacher",
                                     "--email", "l@s.example", "--password-stdin"),
                           password + "\n")]
    assert password not in output and "Created teacher ms-lee" in output


def test_an_existing_password_file_is_refused_before_anything(monkeypatch, inventory,
                                                              tmp_path):
    host = Host(monkeypatch)
    secret = tmp_path / "taken"
    secret.write_text("keep me")
    code, output = _users("reset-password", "ms-lee", "--password-file", str(secret),
                          "-i", str(inventory), "-p", "small")
    assert code == 2 and "exists" in output, output
    assert host.calls == [] and secret.read_text() == "keep me"


@pytest.mark.parametrize("fail, code", [("exited 2: CommandError: no user named x", 2),
                                        ("lost its connection: EOF", 1)])
def test_a_refusing_or_failing_host_leaves_no_password_file(monkeypatch, inventory, tmp_path,
                                                            fail, code):
    Host(monkeypatch, fail=fail)
    secret = tmp_path / "x.password"
    got, output = _users("reset-password", "x", "--password-file", str(secret),
                         "-i", str(inventory), "-p", "small")
    assert got == code and "web-1" in output, output
    assert not secret.exists()


def test_an_unknown_role_is_refused(monkeypatch, inventory, tmp_path):
    host = Host(monkeypatch)
    code, output = _users("create", "x", "--role", "janitor", "--password-file",
                          str(tmp_path / "p"), "-i", str(inventory), "-p", "small")
    assert code == 2 and "teacher, counsellor, admin" in output, output
    assert host.calls == [] and not (tmp_path / "p").exists()


def test_list_shows_a_table(monkeypatch, inventory):
    rows = [{"username": "ms-lee", "role": "teacher", "active": False, "email": "",
             "last_login": None, "classes": ["hillside 10A", "hillside 10B"]}]
    Host(monkeypatch, answer=json.dumps(rows))
    code, output = _users("list", "-i", str(inventory), "-p", "small")
    assert code == 0, output
    assert "ms-lee" in output and "teacher" in output and "never" in output and "no" in output
    assert "hillside 10A, hillside 10B" in output


def test_classes_go_to_create_and_assign(monkeypatch, inventory, tmp_path):
    host = Host(monkeypatch)
    code, output = _users("create", "ms-k", "--role", "teacher", "--class", "10A", "--class",
                          "10B", "--school", "hillside", "--password-file",
                          str(tmp_path / "p"), "-i", str(inventory), "-p", "small")
    assert code == 0, output
    assert host.calls[0][1][-7:] == ("--class", "10A", "--class", "10B", "--school",
                                     "hillside", "--password-stdin")
    code, output = _users("assign", "ms-k", "--class", "11C", "-i", str(inventory), "-p",
                          "small")
    assert code == 0 and "ms-k teaches 11C" in output, output
    assert host.calls[1][1] == ("ssas_users", "assign", "ms-k", "--class", "11C")


@pytest.mark.parametrize("name", ["", "two words", "x" * 151, "semi;colon"])
def test_a_bad_username_is_refused_before_anything(monkeypatch, inventory, tmp_path, name):
    host = Host(monkeypatch)
    code, output = _users("create", name, "--role", "teacher", "--password-file",
                          str(tmp_path / "p"), "-i", str(inventory), "-p", "small")
    assert code == 2 and "nothing was changed" in output, output
    assert host.calls == [] and not (tmp_path / "p").exists()


def test_a_directory_as_password_file_is_named_as_such(monkeypatch, inventory, tmp_path):
    host = Host(monkeypatch)
    code, output = _users("reset-password", "x", "--password-file", str(tmp_path),
                          "-i", str(inventory), "-p", "small")
    assert code == 2 and "is a directory" in output, output
    assert host.calls == []


def test_classes_for_a_counsellor_are_refused_before_connecting(monkeypatch, inventory,
                                                               tmp_path):
    host = Host(monkeypatch)
    code, output = _users("create", "mrs-c", "--role", "counsellor", "--class", "10A",
                          "--password-file", str(tmp_path / "p"), "-i", str(inventory),
                          "-p", "small")
    assert code == 2 and "--class is for teachers" in output
    assert host.calls == [] and not (tmp_path / "p").exists()
