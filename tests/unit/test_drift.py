"""`plan --inventory`'s comparison of one live file with the file table: bytes, then owner,
group and mode; the live side parsed from the one-round-trip shell output."""

import base64

import pytest

from ssas_deploy.drift import LiveFile, compare, parse_fetched
from ssas_deploy.files import ManagedFile
from ssas_deploy.rendering import RenderedFile

SETTINGS = ManagedFile("app/settings.py.j2", "/etc/ssas/ssas_settings.py", "root", "ssas",
                       "0640", "ssas-gunicorn", "reload")
SECRETS = ManagedFile("app/secrets.env.j2", "/etc/ssas/secrets.env", "root", "ssas", "0640",
                      "ssas-gunicorn", "restart", secret=True)


def rendered(spec: ManagedFile, content: str = "DEBUG = False\n") -> RenderedFile:
    return RenderedFile("web-1", spec, content)


def test_same_bytes_owner_and_mode_is_unchanged():
    live = LiveFile(b"DEBUG = False\n", "root", "ssas", 0o640)
    assert compare(rendered(SETTINGS), live, secrets_known=True).status == "unchanged"


@pytest.mark.parametrize("owner, group, mode", [("root", "ssas", 0o644), ("ssas", "ssas", 0o640),
                                                ("root", "root", 0o640)])
def test_a_changed_owner_group_or_mode_is_found_with_both_sides_named(owner, group, mode):
    drift = compare(rendered(SETTINGS), LiveFile(b"DEBUG = False\n", owner, group, mode), True)
    assert drift.status == "permissions differ"
    assert f"live {owner}:{group} {mode:04o}, wanted root:ssas 0640" in drift.diff
    assert drift.action == "reload" and drift.service == "ssas-gunicorn"


def test_a_world_readable_secret_is_found_even_without_the_vault():
    drift = compare(rendered(SECRETS, "SECRET=x\n"), LiveFile(b"SECRET=x\n", "root", "ssas", 0o644),
                    secrets_known=False)
    assert drift.status == "permissions differ"
    assert "SECRET" not in drift.diff


def test_changed_bytes_are_reported_before_permissions():
    drift = compare(rendered(SETTINGS), LiveFile(b"DEBUG = True\n", "root", "root", 0o600), True)
    assert drift.status == "changed" and "+DEBUG = False" in drift.diff


def test_fetched_output_is_parsed_per_path():
    body = base64.b64encode(b"a\x00b\n").decode()
    output = (f"@@/etc/a.conf\nroot:ssas:640 {body}\n@@/etc/missing.conf\n@@missing\n"
              "@@/etc/empty.conf\npostgres:postgres:600 \n")
    assert parse_fetched(output) == {
        "/etc/a.conf": LiveFile(b"a\x00b\n", "root", "ssas", 0o640),
        "/etc/missing.conf": None,
        "/etc/empty.conf": LiveFile(b"", "postgres", "postgres", 0o600),
    }


def test_a_line_without_owner_and_mode_is_an_error():
    with pytest.raises(ValueError):
        parse_fetched("@@/etc/a.conf\nnot-stat-output\n")
