"""`ssas_users`: the staff accounts command `ssas-deploy users` runs on a web host."""

import io
import json

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

PASSWORD = "Generated-1nitial-Passw0rd"


def run(monkeypatch, *args, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    output = io.StringIO()
    call_command("ssas_users", *args, stdout=output)
    return output.getvalue()


def test_create_a_teacher_and_an_admin_then_list_them(db, monkeypatch):
    run(monkeypatch, "create", "ms-lee", "--role", "teacher", "--email", "lee@school.example",
        "--password-stdin", stdin=PASSWORD + "\n")
    run(monkeypatch, "create", "principal", "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n")
    assert authenticate(username="ms-lee", password=PASSWORD) is not None
    lee, principal = User.objects.get(username="ms-lee"), User.objects.get(username="principal")
    assert not lee.is_staff and [g.name for g in lee.groups.all()] == ["teachers"]
    assert principal.is_staff and [g.name for g in principal.groups.all()] == ["admins"]
    rows = json.loads(run(monkeypatch, "list", "--json"))
    assert [(r["username"], r["role"], r["active"], r["email"]) for r in rows] == [
        ("ms-lee", "teacher", True, "lee@school.example"), ("principal", "admin", True, "")]


def test_disable_and_reset_password(db, monkeypatch):
    run(monkeypatch, "create", "mr-o", "--role", "teacher", "--password-stdin",
        stdin=PASSWORD + "\n")
    run(monkeypatch, "reset-password", "mr-o", "--password-stdin", stdin="An0ther-Passphrase\n")
    assert authenticate(username="mr-o", password="An0ther-Passphrase") is not None
    run(monkeypatch, "disable", "mr-o")
    assert authenticate(username="mr-o", password="An0ther-Passphrase") is None
    assert json.loads(run(monkeypatch, "list", "--json"))[0]["active"] is False


@pytest.mark.parametrize("args, stdin, message", [
    (("create", "dup", "--role", "teacher", "--password-stdin"), PASSWORD, "exists already"),
    (("create", "weak", "--role", "teacher", "--password-stdin"), "123", "password refused"),
    (("reset-password", "ghost", "--password-stdin"), PASSWORD, "no user named ghost"),
    (("disable", "ghost"), "", "no user named ghost"),
    (("create", "bad", "--role", "admin", "--email", "not-an-email", "--password-stdin"),
     PASSWORD, "email: Enter a valid email address"),
])
def test_refusals_exit_2_and_change_nothing(db, monkeypatch, args, stdin, message):
    User.objects.create_user("dup", password=PASSWORD)
    before = list(User.objects.values_list("username", "password", "is_active"))
    with pytest.raises(CommandError, match=message) as refused:
        run(monkeypatch, *args, stdin=stdin + "\n")
    assert refused.value.returncode == 2
    assert list(User.objects.values_list("username", "password", "is_active")) == before


def test_a_teachers_classes_are_set_checked_and_listed(school_data, monkeypatch):
    run(monkeypatch, "create", "ms-k", "--role", "teacher", "--class", "9A", "--class", "10B",
        "--password-stdin", stdin=PASSWORD + "\n")
    rows = {r["username"]: r for r in json.loads(run(monkeypatch, "list", "--json"))}
    assert rows["ms-k"]["classes"] == ["test-high 10B", "test-high 9A"]
    run(monkeypatch, "assign", "ms-k", "--class", "11C", "--school", "TEST-HIGH")
    rows = {r["username"]: r for r in json.loads(run(monkeypatch, "list", "--json"))}
    assert rows["ms-k"]["classes"] == ["test-high 11C"]
    with pytest.raises(CommandError, match=r"no class 9Z in school test-high \(classes: 10A"):
        run(monkeypatch, "assign", "ms-k", "--class", "9Z")
    rows = {r["username"]: r for r in json.loads(run(monkeypatch, "list", "--json"))}
    assert rows["ms-k"]["classes"] == ["test-high 11C"]  # a refusal changes nothing
    with pytest.raises(CommandError, match="--class is for teachers"):
        run(monkeypatch, "create", "mrs-c", "--role", "counsellor", "--class", "9A",
            "--password-stdin", stdin=PASSWORD + "\n")
    assert not User.objects.filter(username="mrs-c").exists()
    run(monkeypatch, "create", "mrs-c", "--role", "counsellor", "--password-stdin",
        stdin=PASSWORD + "\n")
    with pytest.raises(CommandError, match="not a teacher"):
        run(monkeypatch, "assign", "mrs-c", "--class", "9A")
    rows = {r["username"]: r for r in json.loads(run(monkeypatch, "list", "--json"))}
    assert rows["mrs-c"]["role"] == "counsellor"
