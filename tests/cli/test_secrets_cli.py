import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from ssas_deploy.cli import secrets_cmd

from ..tls_material import build_pki

pytest.importorskip("ansible.parsing.vault")

PASSWORD = "Staff-Room-Kettle-42"

cli = typer.Typer()
cli.add_typer(secrets_cmd.app, name="secrets")
runner = CliRunner()


@pytest.fixture
def outputs():
    """Every stdout and stderr the CLI produced in a test, to check for leaked values."""
    return []


@pytest.fixture
def invoke(outputs):
    def _invoke(*args, env=None, input=None):
        result = runner.invoke(cli, ["secrets", *map(str, args)], env=env, input=input)
        outputs.append(result.output + result.stderr)
        assert "Traceback" not in result.output + result.stderr
        return result

    return _invoke


def stored_values(inventory) -> set[str]:
    from ssas_deploy.secrets import SecretStore, VaultPassword

    records = SecretStore(inventory, VaultPassword(PASSWORD.encode(), "test")).records()
    return {record.value for record in records.values()}


def test_every_secrets_command_has_help(invoke):
    for args in ([], ["list"], ["rotate"], ["init"], ["import-tls"], ["show-path"]):
        result = invoke(*args, "--help")
        assert result.exit_code == 0, args
        assert "Usage:" in result.output


def test_show_path(invoke, inventory):
    result = invoke("show-path", "--inventory", inventory)
    assert result.exit_code == 0
    assert result.output == f"{inventory.parent / 'hosts.secrets.vault.yml'}\n"


def test_list_before_first_use_needs_no_password(invoke, inventory):
    result = invoke("list", "--inventory", inventory)
    assert result.exit_code == 0
    assert "No secrets vault yet" in result.output
    assert not (inventory.parent / "hosts.secrets.vault.yml").exists()


def test_init_list_rotate_never_print_a_value(invoke, inventory, outputs, tmp_path):
    env = {"SSAS_VAULT_PASSWORD": PASSWORD}
    result = invoke("init", "--inventory", inventory, env=env)
    assert result.exit_code == 0, result.output
    assert "Generated django_secret_key, db_password" in result.output
    assert "nothing changed" in invoke("init", "--inventory", inventory, env=env).output
    initial = stored_values(inventory)

    listing = invoke("list", "-i", inventory, env=env)
    assert listing.exit_code == 0
    for name in ("django_secret_key", "db_password", "redis_cache_password",
                 "redis_broker_password", "replication_password", "tls_key"):
        assert name in listing.output
    assert "not imported" in listing.output

    rotated = invoke("rotate", "db_password", "-i", inventory, env=env)
    assert rotated.exit_code == 0
    assert "Rotated db_password" in rotated.output
    assert "PgBouncer" in rotated.output
    after = stored_values(inventory)
    assert len(after - initial) == 1 and len(initial - after) == 1

    pki = build_pki()
    chain, key = pki.write(tmp_path)
    assert invoke("import-tls", "--cert", chain, "--key", key, "-i", inventory,
                  env=env).exit_code == 0
    assert "imported" in invoke("list", "-i", inventory, env=env).output

    # Errors too: unknown name, wrong password.
    unknown = invoke("rotate", "db_pasword", "-i", inventory, env=env)
    assert unknown.exit_code == 2
    assert "did you mean 'db_password'?" in unknown.output
    wrong = invoke("list", "-i", inventory, env={"SSAS_VAULT_PASSWORD": "not-the-password"})
    assert wrong.exit_code == 2

    key_lines = {line for value in stored_values(inventory) | {key.read_text()}
                 for line in value.splitlines()[1:-1]}
    values = stored_values(inventory) | initial | {PASSWORD} | key_lines
    for output in outputs:
        for value in values:
            assert value not in output


def test_wrong_password_exits_2_with_a_clear_message(invoke, inventory):
    assert invoke("init", "-i", inventory, env={"SSAS_VAULT_PASSWORD": PASSWORD}).exit_code == 0
    result = invoke("rotate", "db_password", "-i", inventory,
                    env={"SSAS_VAULT_PASSWORD": "guess"})
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "wrong vault password (from SSAS_VAULT_PASSWORD)" in result.output


def test_password_from_a_file_option_and_the_environment(invoke, inventory, tmp_path):
    password_file = tmp_path / "vault-pass"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    result = invoke("init", "-i", inventory, "--vault-password-file", password_file)
    assert result.exit_code == 0, result.output
    result = invoke("list", "-i", inventory,
                    env={"SSAS_VAULT_PASSWORD_FILE": str(password_file)})
    assert result.exit_code == 0, result.output
    assert "db_password" in result.output
    assert stored_values(inventory)  # the same password opens it


def test_without_password_or_terminal_exit_2_naming_the_three_ways(invoke, inventory):
    result = invoke("init", "-i", inventory)
    assert result.exit_code == 2
    for way in ("--vault-password-file", "SSAS_VAULT_PASSWORD_FILE", "SSAS_VAULT_PASSWORD=",
                "terminal"):
        assert way in result.output
    assert not (inventory.parent / "hosts.secrets.vault.yml").exists()


def test_prompt_asks_twice_for_a_new_vault_once_after(invoke, inventory, monkeypatch):
    from ssas_deploy.secrets import password

    monkeypatch.setattr(password, "stdin_is_terminal", lambda: True)
    created = invoke("init", "-i", inventory, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    assert "New vault password" in created.output
    listed = invoke("list", "-i", inventory, input=f"{PASSWORD}\n")
    assert listed.exit_code == 0, listed.output
    assert "New vault password" not in listed.output
    assert stored_values(inventory)


def test_missing_inventory_is_an_input_error(invoke, tmp_path):
    result = invoke("init", "-i", tmp_path / "nope.yaml", env={"SSAS_VAULT_PASSWORD": "x"})
    assert result.exit_code == 2
    assert "inventory not found" in result.output


def test_importing_the_command_does_not_import_ansible():
    code = ("import sys, ssas_deploy.cli.secrets_cmd; "
            "sys.exit(any(m == 'ansible' or m.startswith('ansible.') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_backup_keys_are_never_rotated(invoke, inventory):
    env = {"SSAS_VAULT_PASSWORD": PASSWORD}
    assert invoke("init", "--inventory", inventory, env=env).exit_code == 0
    before = stored_values(inventory)
    for name in ("backup_cipher_pass", "restic_password"):
        result = invoke("rotate", name, "-i", inventory, env=env)
        assert result.exit_code == 2
        assert "existing backups are encrypted with it" in result.output + result.stderr
    assert stored_values(inventory) == before
