"""`ssas-deploy secrets import-tls` with real certificates: what it accepts, what it refuses
(exit 2, naming the file and block) and that a refusal stores nothing."""

import stat
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from ssas_deploy.cli import secrets_cmd

from ..tls_material import build_pki, key_pem, new_key, pem

pytest.importorskip("ansible.parsing.vault")

PASSWORD = "Staff-Room-Kettle-42"
ENV = {"SSAS_VAULT_PASSWORD": PASSWORD}

cli = typer.Typer()
cli.add_typer(secrets_cmd.app, name="secrets")
runner = CliRunner()


@pytest.fixture(scope="module")
def pki():
    return build_pki()


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "given"
    directory.mkdir()
    return directory


def run(*args, env=ENV):
    result = runner.invoke(cli, ["secrets", *map(str, args)], env=env)
    text = result.output + result.stderr
    assert "Traceback" not in text
    return result, text


def import_tls(inventory, chain, key, *extra, env=ENV):
    return run("import-tls", "--cert", chain, "--key", key, "--inventory", inventory, *extra,
               env=env)


def stored(inventory) -> dict[str, str]:
    from ssas_deploy.secrets import SecretStore, VaultPassword

    store = SecretStore(inventory, VaultPassword(PASSWORD.encode(), "test"))
    return {name: record.value for name, record in store.records().items()}


def assert_nothing_stored(inventory):
    directory = inventory.parent
    assert not (directory / "hosts.secrets.vault.yml").exists()
    assert not (directory / "hosts.tls-chain.pem").exists()
    assert {p.name for p in directory.iterdir()} - {"given", "custom.yaml"} == {"hosts.yaml"}


def test_a_good_chain_keeps_the_key_in_the_vault_and_the_chain_beside_the_inventory(
        pki, inventory, files):
    chain, key = pki.write(files)
    result, text = import_tls(inventory, chain, key)
    assert result.exit_code == 0, text
    assert "Imported CN=ssas.school.internal" in text
    assert "2 certificate(s)" in text
    assert "Set `site: {tls: provided}` in the profile" in text

    chain_file = inventory.parent / "hosts.tls-chain.pem"
    assert chain_file.read_text() == pem(pki.leaf, pki.intermediate)
    assert stat.S_IMODE(chain_file.stat().st_mode) == 0o644
    vault = inventory.parent / "hosts.secrets.vault.yml"
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    kept = stored(inventory)["tls_key"]
    assert kept.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, whatever was given
    assert (load_pem_private_key(kept.encode(), None).private_numbers()
            == pki.leaf_key.private_numbers())
    # The key is in no output and in no clear-text file beside the inventory.
    body = key_pem(pki.leaf_key).splitlines()[1]
    assert body not in text and kept.splitlines()[1] not in text
    for path in inventory.parent.iterdir():
        if path.is_file():
            assert kept.splitlines()[1].encode() not in path.read_bytes()

    # A second import replaces both; `list` shows the key as imported.
    leaf, leaf_key = pki.leaf_for()
    chain, key = pki.write(files, leaf, pki.intermediate, key=leaf_key)
    assert import_tls(inventory, chain, key)[0].exit_code == 0
    assert chain_file.read_text() == pem(leaf, pki.intermediate)
    assert stored(inventory)["tls_key"] != kept
    assert "imported" in run("list", "-i", inventory)[1]


def test_a_key_that_is_not_the_certificates_is_refused(pki, inventory, files):
    chain, key = pki.write(files, key=new_key())
    result, text = import_tls(inventory, chain, key)
    assert result.exit_code == 2
    assert f"{key}: this key does not belong to the certificate in {chain}" in text
    assert_nothing_stored(inventory)


def test_an_expired_or_not_yet_valid_certificate_is_refused(pki, inventory, files):
    now = datetime.now(UTC)
    expired, key = pki.leaf_for(not_before=now - timedelta(days=100),
                                not_after=now - timedelta(days=2))
    chain, key_file = pki.write(files, expired, pki.intermediate, key=key)
    result, text = import_tls(inventory, chain, key_file)
    assert result.exit_code == 2
    assert f"{chain}:1: block 1 (line 1), CN=ssas.school.internal: expired on " in text
    assert_nothing_stored(inventory)

    future, key = pki.leaf_for(not_before=now + timedelta(days=3))
    chain, key_file = pki.write(files, future, pki.intermediate, key=key)
    result, text = import_tls(inventory, chain, key_file)
    assert result.exit_code == 2
    assert "not valid before" in text
    assert_nothing_stored(inventory)


def test_a_chain_out_of_order_is_refused_with_the_right_order(pki, inventory, files):
    chain, key = pki.write(files, pki.intermediate, pki.leaf)
    result, text = import_tls(inventory, chain, key, "--profile", "small")
    assert result.exit_code == 2
    assert "block 1 (line 1), CN=SSAS Test Intermediate, is not issued by the next" in text
    assert "(in this file: blocks 2, 1)" in text
    assert "does not cover" not in text  # the first certificate is not the server's
    assert_nothing_stored(inventory)

    # A certificate in between that does not belong to the chain.
    chain, key = pki.write(files, pki.leaf, pki.root, pki.intermediate)
    result, text = import_tls(inventory, chain, key)
    assert result.exit_code == 2
    assert "CN=ssas.school.internal, is not issued by the next certificate" in text
    assert "(in this file: blocks 1, 3, 2)" in text
    assert_nothing_stored(inventory)


def test_the_root_may_end_the_chain_and_a_lone_leaf_only_warns(pki, inventory, files):
    chain, key = pki.write(files, pki.leaf, pki.intermediate, pki.root)
    result, text = import_tls(inventory, chain, key)
    assert result.exit_code == 0, text
    assert "3 certificate(s)" in text

    chain, key = pki.write(files, pki.leaf)
    result, text = import_tls(inventory, chain, key)
    assert result.exit_code == 0, text
    assert "only the server's certificate, no intermediates" in text


def test_files_that_are_not_pem_name_the_file_and_the_block(pki, inventory, files):
    chain, key = pki.write(files)
    text_file = files / "notes.txt"
    text_file.write_text("this is the certificate, honest\n")
    result, text = import_tls(inventory, text_file, key)
    assert result.exit_code == 2
    assert f"{text_file}: is not PEM: no '-----BEGIN ...-----' block" in text

    binary = files / "cert.der"
    binary.write_bytes(pki.leaf.public_bytes(__import__(
        "cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER))
    result, text = import_tls(inventory, binary, key)
    assert result.exit_code == 2
    assert f"{binary}: is not a PEM text file" in text and "openssl x509 -inform der" in text

    garbage = files / "garbage.pem"
    garbage.write_bytes(b"\xff\xfe\x00garbage\x80\x81")
    result, text = import_tls(inventory, chain, garbage)
    assert result.exit_code == 2
    assert f"{garbage}: is not a PEM text file (byte 0 is not text" in text

    # The second block is damaged: both files' problems are reported at once.
    lines = chain.read_text().splitlines(keepends=True)
    second = next(i for i, line in enumerate(lines) if i and "BEGIN" in line)
    lines[second + 2] = "!!!! not base64 !!!!\n"
    damaged = files / "damaged.pem"
    damaged.write_text("".join(lines))
    result, text = import_tls(inventory, damaged, garbage)
    assert result.exit_code == 2
    assert f"{damaged}:{second + 1}: block 2 (line {second + 1}): not a valid certificate" in text
    assert f"{garbage}: is not a PEM text file" in text

    cut = files / "cut.pem"
    cut.write_text("".join(lines[:second + 3]))
    result, text = import_tls(inventory, cut, key)
    assert result.exit_code == 2
    assert f"{cut}:{second + 1}: this BEGIN or END line has no partner" in text
    assert_nothing_stored(inventory)


def test_swapped_files_encrypted_keys_and_keys_in_the_chain_are_refused(pki, inventory,
                                                                        files):
    from cryptography.hazmat.primitives import serialization

    chain, key = pki.write(files)
    result, text = import_tls(inventory, key, chain)
    assert result.exit_code == 2
    assert f"{key}:1: block 1 (line 1) is a EC PRIVATE KEY, not a CERTIFICATE" in text
    assert f"{chain}: no PRIVATE KEY block, only CERTIFICATE (is it the chain?" in text

    combined = files / "combined.pem"
    combined.write_text(chain.read_text() + key.read_text())
    result, text = import_tls(inventory, combined, key)
    assert result.exit_code == 2
    assert "block 3" in text and "the chain is stored in clear" in text

    encrypted = files / "encrypted.pem"
    encrypted.write_bytes(pki.leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")))
    result, text = import_tls(inventory, chain, encrypted)
    assert result.exit_code == 2
    assert "the key is encrypted; nginx starts unattended" in text
    assert_nothing_stored(inventory)


def test_expiring_within_30_days_warns_and_imports(pki, inventory, files):
    leaf, key = pki.leaf_for(not_after=datetime.now(UTC) + timedelta(days=10, hours=1))
    chain, key_file = pki.write(files, leaf, pki.intermediate, key=key)
    result, text = import_tls(inventory, chain, key_file)
    assert result.exit_code == 0, text
    assert "warning:" in text
    assert "CN=ssas.school.internal expires on" in text and "(in 10 day(s))" in text
    assert (inventory.parent / "hosts.tls-chain.pem").exists()


def test_the_profiles_server_name_must_be_covered(pki, inventory, files, write_profile):
    profile = write_profile("name: st-marys\nextends: small\n"
                            "site: {server_name: ssas.stmarys.example, tls: provided}\n")
    chain, key = pki.write(files)
    result, text = import_tls(inventory, chain, key, "--profile", profile)
    assert result.exit_code == 2
    assert ("the certificate does not cover the server name 'ssas.stmarys.example' (profile "
            "site.server_name); its names: ssas.school.internal") in text
    assert_nothing_stored(inventory)

    wildcard, wildcard_key = pki.leaf_for(names=("*.stmarys.example",))
    chain, key = pki.write(files, wildcard, pki.intermediate, key=wildcard_key)
    result, text = import_tls(inventory, chain, key, "--profile", profile)
    assert result.exit_code == 0, text
    assert "Run apply to serve it." in text


def test_without_a_profile_the_last_applys_is_used(pki, inventory, files):
    from ssas_deploy.release_status import write_last_apply

    chain, key = pki.write(files)
    result, text = import_tls(inventory, chain, key)
    assert "Its names were not checked against a profile" in text
    write_last_apply(inventory, {"action": "apply", "profile": "small"})
    result, text = import_tls(inventory, chain, key)
    assert result.exit_code == 0, text
    assert "not checked" not in text


def test_a_wrong_vault_password_stores_nothing(pki, inventory, files):
    assert run("init", "-i", inventory)[0].exit_code == 0
    vault = inventory.parent / "hosts.secrets.vault.yml"
    before = vault.read_bytes()
    chain, key = pki.write(files)
    result, text = import_tls(inventory, chain, key, env={"SSAS_VAULT_PASSWORD": "guess"})
    assert result.exit_code == 2
    assert "wrong vault password" in text
    assert vault.read_bytes() == before
    assert sorted(p.name for p in inventory.parent.iterdir()) == [
        "given", "hosts.secrets.vault.yml", "hosts.yaml"]


def test_import_tls_key_is_replaced_by_import_tls(pki, inventory, files):
    _, key = pki.write(files)
    result, text = run("import-tls-key", key, "-i", inventory)
    assert result.exit_code == 2
    assert "replaced by `ssas-deploy secrets import-tls --cert CHAIN.pem --key" in text
    assert "nothing was stored" in text
    assert_nothing_stored(inventory)
    assert "import-tls-key" not in run("--help")[1]
    assert "import-tls " in run("--help")[1] or "import-tls\n" in run("--help")[1]


def test_missing_huge_and_special_files_are_refused_at_once(pki, inventory, files):
    import os

    chain, key = pki.write(files)
    result, text = import_tls(inventory, files / "nope.pem", key)
    assert result.exit_code == 2
    assert f"{files / 'nope.pem'}: no such file" in text
    huge = files / "huge.pem"
    huge.write_bytes(b"A" * (1024 * 1024 + 1))
    result, text = import_tls(inventory, huge, key)
    assert result.exit_code == 2 and "larger than 1,048,576 bytes" in text
    fifo = files / "fifo.pem"
    os.mkfifo(fifo)
    for special in (fifo, files, "/dev/zero"):
        result, text = import_tls(inventory, chain, special)
        assert result.exit_code == 2
        assert "is not a regular file" in text or "is a directory" in text
    assert_nothing_stored(inventory)
