import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("ansible.parsing.vault")

from ssas_deploy.errors import EXIT_INVALID_INPUT, InvalidInputError
from ssas_deploy.secrets import (
    GENERATED_NAMES,
    MASK,
    SecretStore,
    VaultPassword,
    deployment_secrets,
    masked,
    resolve_vault_password,
    template_secrets,
    vault_path_for,
)
from ssas_deploy.secrets.names import SAFE_ALPHABET

BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery staple"


@pytest.fixture
def warnings():
    return []


@pytest.fixture
def store(inventory, warnings):
    return SecretStore(inventory, VaultPassword(PASSWORD.encode(), "test"), warn=warnings.append)


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "vault-pass"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def ansible_vault_view(vault: Path, password_file: Path) -> dict:
    result = subprocess.run([str(BIN / "ansible-vault"), "view", "--vault-password-file",
                             str(password_file), str(vault)],
                            capture_output=True, text=True, check=True)
    return yaml.safe_load(result.stdout)


def test_vault_path_is_beside_the_inventory(tmp_path):
    assert vault_path_for(tmp_path / "school" / "hosts.yaml") == (
        tmp_path / "school" / "hosts.secrets.vault.yml")


def test_first_use_creates_a_0600_vault_that_ansible_vault_decrypts(store, password_file):
    values = store.load_or_create()
    assert set(values) == set(GENERATED_NAMES)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.path.read_bytes().startswith(b"$ANSIBLE_VAULT;1.1;AES256\n")
    for value in values.values():
        assert value.encode() not in store.path.read_bytes()
    doc = ansible_vault_view(store.path, password_file)
    assert doc["ssas_secrets"] == values
    assert set(doc["ssas_secrets_meta"]) == set(GENERATED_NAMES)
    # No temporary file left behind.
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "hosts.secrets.vault.yml", "hosts.yaml", "vault-pass"]


def test_ansible_reads_the_vault_as_a_vars_file(store, password_file, tmp_path):
    values = store.load_or_create()
    dump = tmp_path / "seen.json"
    result = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-c", "local", "-m", "ansible.builtin.copy",
         "-a", f"content={{{{ ssas_secrets | to_json }}}} dest={dump} mode=0600",
         "-e", f"@{store.path}", "--vault-password-file", str(password_file)],
        capture_output=True, text=True, env={**os.environ, "ANSIBLE_LOCALHOST_WARNING": "False"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(dump.read_text()) == values


def test_generated_values_are_random_long_and_need_no_escaping(store):
    values = store.load_or_create()
    assert len(set(values.values())) == len(values)
    for name, value in values.items():
        assert set(value) <= SAFE_ALPHABET, name
        assert len(value) >= 32, name
    key = values["django_secret_key"]
    assert len(key) >= 50 and len(set(key)) >= 5 and not key.startswith("django-insecure-")


def test_second_load_returns_the_same_values_without_rewriting(store, inventory):
    first = store.load_or_create()
    before = store.path.read_bytes()
    again = SecretStore(inventory, VaultPassword(PASSWORD.encode(), "test")).load_or_create()
    assert again == first
    assert store.path.read_bytes() == before


def test_a_secret_missing_from_an_older_vault_is_generated_alone(store):
    first = store.load_or_create(["db_password"])
    assert list(first) == ["db_password"]
    values = store.load_or_create()
    assert values["db_password"] == first["db_password"]
    assert set(values) == set(GENERATED_NAMES)


def test_rotate_changes_exactly_one_value(store, password_file):
    before = store.load_or_create()
    record = store.rotate("db_password")
    after = store.load_or_create()
    assert after["db_password"] == record.value != before["db_password"]
    assert {k: v for k, v in after.items() if k != "db_password"} == {
        k: v for k, v in before.items() if k != "db_password"}
    records = store.records()
    assert records["db_password"].rotated == record.rotated is not None
    assert records["db_password"].created == records["redis_cache_password"].created
    assert records["redis_cache_password"].rotated is None
    assert ansible_vault_view(store.path, password_file)["ssas_secrets"] == after
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_rotate_unknown_name_suggests_the_closest(store):
    store.load_or_create()
    with pytest.raises(InvalidInputError) as caught:
        store.rotate("db_pasword")
    assert caught.value.exit_code == EXIT_INVALID_INPUT
    assert "unknown secret 'db_pasword' (did you mean 'db_password'?)" in str(caught.value)


def test_rotate_refuses_the_supplied_tls_key_and_a_missing_vault(store):
    with pytest.raises(InvalidInputError, match="no secrets vault yet"):
        store.rotate("db_password")
    store.load_or_create()
    with pytest.raises(InvalidInputError, match="supplied by you"):
        store.rotate("tls_key")


def test_wrong_password_is_an_input_error_without_values(store, inventory):
    values = store.load_or_create()
    wrong = SecretStore(inventory, VaultPassword(b"not it", "SSAS_VAULT_PASSWORD"))
    with pytest.raises(InvalidInputError) as caught:
        wrong.load_or_create()
    assert caught.value.exit_code == EXIT_INVALID_INPUT
    message = str(caught.value)
    assert "wrong vault password (from SSAS_VAULT_PASSWORD)" in message
    assert str(store.path) in message
    assert not any(v in message for v in values.values())


def test_damaged_and_unencrypted_vaults_are_refused(store):
    store.load_or_create()
    lines = store.path.read_text().splitlines()
    store.path.write_text("\n".join([lines[0], "zz" + lines[1][2:], *lines[2:]]) + "\n")
    with pytest.raises(InvalidInputError, match="damaged"):
        store.records()
    store.path.write_text("ssas_secrets: {db_password: plain}\n")
    store.path.chmod(0o600)
    with pytest.raises(InvalidInputError, match="not an ansible-vault encrypted file"):
        store.load_or_create()
    assert "plain" in store.path.read_text()  # not overwritten


def test_invalid_yaml_inside_is_reported_without_quoting_it(store):
    from ansible.parsing.vault import VaultLib, VaultSecret

    leaked = "s3cr3t-value-that-must-not-show"
    payload = f"ssas_secrets:\n  db_password: {leaked}\n   bad: [\n"
    store.path.write_bytes(VaultLib().encrypt(payload, secret=VaultSecret(PASSWORD.encode())))
    store.path.chmod(0o600)
    with pytest.raises(InvalidInputError) as caught:
        store.records()
    assert "YAML is invalid at line" in str(caught.value)
    assert leaked not in str(caught.value)


def test_a_readable_vault_is_fixed_to_0600_with_a_warning(store, warnings):
    store.load_or_create()
    store.path.chmod(0o644)
    store.records()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert any("readable by other users (mode 0644); changed to 0600" in w for w in warnings)


def test_tls_key_is_kept_apart_from_ssas_secrets(store, password_file):
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n"
    store.import_tls_key(pem)
    doc = ansible_vault_view(store.path, password_file)
    assert doc["ssas_tls_key"] == pem
    assert "tls_key" not in doc["ssas_secrets"]
    assert store.load_or_create(["tls_key"]) == {"tls_key": pem}
    assert "tls_key" not in template_secrets(store.load_or_create())
    with pytest.raises(InvalidInputError, match="not a PEM private key"):
        store.import_tls_key("hello")


def test_records_and_passwords_never_show_values_in_repr(store):
    values = store.load_or_create()
    text = repr(store.records()) + repr(VaultPassword(PASSWORD.encode(), "test"))
    assert PASSWORD not in text
    assert not any(v in text for v in values.values())


def test_masked_and_template_secrets_fit_rendering(store):
    from ssas_deploy.context.build import build
    from ssas_deploy.profiles.loader import load_profile
    from ssas_deploy.rendering import MASK as RENDER_MASK
    from ssas_deploy.rendering import SECRET_NAMES, render_deployment

    assert MASK == RENDER_MASK
    values = template_secrets(store.load_or_create())
    assert set(SECRET_NAMES) <= set(values)
    assert masked(values) == dict.fromkeys(values, MASK)
    files = render_deployment(build(load_profile("small")), secrets=values)
    env = next(f.content for f in files if f.spec.template == "django/secrets.env.j2")
    assert f"SSAS_DB_PASSWORD={values['db_password']}\n" in env
    assert f"SSAS_SECRET_KEY={values['django_secret_key']}\n" in env


def test_deployment_secrets_resolves_the_password_from_the_environment(inventory, monkeypatch):
    monkeypatch.delenv("SSAS_VAULT_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("SSAS_VAULT_PASSWORD", PASSWORD)
    first = deployment_secrets(inventory)
    assert deployment_secrets(inventory) == first
    assert set(first) == set(GENERATED_NAMES)


# -- where the password comes from -----------------------------------------------------------


def test_password_sources_in_order(tmp_path, password_file):
    other = tmp_path / "other"
    other.write_text("from-env-file\n")
    other.chmod(0o600)
    env = {"SSAS_VAULT_PASSWORD_FILE": str(other), "SSAS_VAULT_PASSWORD": "from-env"}
    first = resolve_vault_password(password_file, creating=False, environ=env)
    assert first.value == PASSWORD.encode()
    assert first.source.startswith("--vault-password-file")
    second = resolve_vault_password(None, creating=False, environ=env)
    assert second.value == b"from-env-file"
    assert second.source.startswith("SSAS_VAULT_PASSWORD_FILE")
    third = resolve_vault_password(None, creating=False,
                                   environ={"SSAS_VAULT_PASSWORD": "from-env"})
    assert (third.value, third.source) == (b"from-env", "SSAS_VAULT_PASSWORD")


def test_an_executable_password_file_runs_like_ansible_does(tmp_path):
    script = tmp_path / "vault-pass.sh"
    script.write_text("#!/bin/sh\necho scripted-password\n")
    script.chmod(0o700)
    password = resolve_vault_password(script, creating=False, environ={})
    assert password.value == b"scripted-password"


def test_prompt_only_on_a_terminal_and_twice_for_a_new_vault():
    asked = []
    password = resolve_vault_password(None, creating=True, environ={}, interactive=True,
                                      prompt=lambda creating: asked.append(creating) or "typed")
    assert (password.value, password.source, asked) == (b"typed", "prompt", [True])


def test_no_password_and_no_terminal_names_the_three_ways():
    with pytest.raises(InvalidInputError) as caught:
        resolve_vault_password(None, creating=True, environ={}, interactive=False)
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_INVALID_INPUT
    for way in ("--vault-password-file", "SSAS_VAULT_PASSWORD_FILE", "SSAS_VAULT_PASSWORD=",
                "terminal"):
        assert way in message


def test_bad_password_files_are_input_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="vault password file not found"):
        resolve_vault_password(tmp_path / "missing", creating=False, environ={})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(InvalidInputError, match="cannot read the vault password"):
        resolve_vault_password(empty, creating=False, environ={})
    with pytest.raises(InvalidInputError, match="set but empty"):
        resolve_vault_password(None, creating=False, environ={"SSAS_VAULT_PASSWORD": ""})


def test_a_world_readable_password_file_warns(password_file):
    password_file.chmod(0o644)
    warned = []
    resolve_vault_password(password_file, creating=False, environ={}, warn=warned.append)
    assert warned and "readable by other users" in warned[0]


def test_inventory_must_exist(tmp_path):
    store = SecretStore(tmp_path / "typo.yaml", VaultPassword(b"x", "test"))
    with pytest.raises(InvalidInputError, match="inventory not found"):
        store.load_or_create()
    assert not store.path.exists()


def test_ansible_vault_cli_is_available():
    assert shutil.which("ansible-vault", path=str(BIN))


def test_concurrent_rotations_do_not_lose_each_other(store, inventory):
    from concurrent.futures import ThreadPoolExecutor

    before = store.load_or_create()
    names = ["db_password", "redis_cache_password", "redis_broker_password",
             "replication_password"]

    def rotate(name):
        SecretStore(inventory, VaultPassword(PASSWORD.encode(), "test")).rotate(name)

    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(rotate, names))
    after = store.load_or_create()
    assert all(after[name] != before[name] for name in names)
    assert after["django_secret_key"] == before["django_secret_key"]


def test_the_smtp_password_travels_as_its_own_variable_and_only_once_set(store, inventory,
                                                                        password_file):
    from ssas_deploy.profiles.loader import load_profile
    from ssas_deploy.runner.apply import check_mail_password, host_secrets
    from ssas_deploy.secrets.names import split_host_vars

    values = store.load_or_create()
    assert "smtp_password" not in host_secrets(values)
    profile = load_profile("small").model_copy(update={"mail": load_profile("small").mail
                                                       .model_copy(update={
                                                           "smtp_host": "relay.example",
                                                           "username": "ssas"})})
    with pytest.raises(InvalidInputError, match="secrets set-smtp-password"):
        check_mail_password(profile, values)
    with pytest.raises(InvalidInputError, match="printable ASCII"):
        store.set_smtp_password("two\nlines")
    with pytest.raises(InvalidInputError, match="starts or ends with a space"):
        store.set_smtp_password("   ")
    store.set_smtp_password("p@ss word;$HOME")
    values = deployment_secrets(inventory, password_file)
    assert "smtp_password" not in store.load_or_create()
    check_mail_password(profile, values)
    shipped = split_host_vars(host_secrets(values))
    assert shipped["ssas_smtp_password"] == "p@ss word;$HOME"
    assert "smtp_password" not in shipped["ssas_secrets"]
    assert set(shipped["ssas_secrets"]) == set(GENERATED_NAMES)
    with pytest.raises(InvalidInputError, match="supplied by you"):
        store.rotate("smtp_password")


def test_the_environment_file_carries_the_smtp_password_as_base64():
    import base64

    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from ssas_deploy.jinja_filters import FILTERS
    from ssas_deploy.resources import data_dir

    env = Environment(loader=FileSystemLoader(str(data_dir("templates"))),
                      undefined=StrictUndefined)
    env.filters.update(FILTERS)
    template = env.get_template("django/secrets.env.j2")
    base = {"ssas_secrets": dict.fromkeys(("django_secret_key", "db_password",
                                           "redis_cache_password", "redis_broker_password"),
                                          "x")}
    assert "SMTP" not in template.render(**base)
    text = template.render(**base, ssas_smtp_password="a b=\"c\"$d")
    line = next(x for x in text.splitlines() if x.startswith("SSAS_SMTP_PASSWORD_B64="))
    assert base64.b64decode(line.split("=", 1)[1]).decode() == "a b=\"c\"$d"
