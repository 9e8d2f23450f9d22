"""A certificate imported with `secrets import-tls` reaches every load balancer, and only
when the profile says `site.tls: provided`; the key only inside the run's encrypted vars."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

pytest.importorskip("ansible.parsing.vault")

from ssas_deploy.errors import InvalidInputError
from ssas_deploy.secrets import SecretStore, VaultPassword
from ssas_deploy.tls.provided import import_tls, provided_chain

from ..conftest import REPO
from ..tls_material import build_pki, new_key, pem

PASSWORD = "correct horse battery staple"
LARGE_INVENTORY = """\
ssh: {user: deploy}
hosts:
  load_balancer: [{name: lb-1, address: 10.0.1.5}]
  web: [{name: web-1, address: 10.0.1.10}, {name: web-2, address: 10.0.1.11},
        {name: web-3, address: 10.0.1.12}]
  database: [{name: db-1, address: 10.0.1.20}]
  backup: [{name: backup-1, address: 10.0.1.50}]
  redis_cache: [{name: cache-1, address: 10.0.1.30}]
  celery_worker: [{name: worker-1, address: 10.0.1.40}]
"""


@pytest.fixture(scope="module")
def pki():
    return build_pki()


@pytest.fixture
def site(tmp_path):
    """(inventory, password file, profile path for a tls value) of a large deployment."""
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(LARGE_INVENTORY, encoding="utf-8")
    password_file = tmp_path / "vault-pass"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    password_file.chmod(0o600)

    def profile(tls: str) -> Path:
        path = tmp_path / f"{tls}.yaml"
        path.write_text(f"name: school\nextends: large\nsite: {{tls: {tls}}}\n")
        return path

    return inventory, password_file, profile


def store_for(inventory):
    return SecretStore(inventory, VaultPassword(PASSWORD.encode(), "test"))


def deployment(profile: Path, inventory: Path):
    from ssas_deploy.cli.options import load_deployment

    return load_deployment(str(profile), inventory, warn=False)


def captured_run(monkeypatch, tmp_path):
    """Replace the Ansible run (and the wheelhouse) of apply; returns what it was given."""
    from ssas_deploy.runner import apply

    seen = {}

    def fake_run(document, secrets, options, **kwargs):
        seen.update(document=document, secrets=secrets)
        return "ran"

    monkeypatch.setattr(apply, "run_with_secrets", fake_run)
    monkeypatch.setattr(apply, "ensure_wheelhouse", lambda given: tmp_path)
    return seen


def apply_to(profile, inventory, password_file):
    from ssas_deploy.runner.apply import apply_deployment

    return apply_deployment(deployment(profile, inventory), inventory,
                            vault_password_file=password_file, console=None)


def test_apply_gives_the_chain_to_the_load_balancer_and_the_key_to_the_encrypted_vars(
        site, pki, tmp_path, monkeypatch):
    from ssas_deploy.runner.workspace import create_workspace_for_inventory, remove_workspace
    from ssas_deploy.secrets.names import split_host_vars

    inventory, password_file, profile = site
    given = tmp_path / "given"
    given.mkdir()
    imported = import_tls(inventory, *pki.write(given), store_for(inventory).import_tls_key,
                          ("ssas.school.internal",))
    assert imported.warnings == []
    seen = captured_run(monkeypatch, tmp_path)
    assert apply_to(profile("provided"), inventory, password_file) == "ran"

    hosts = seen["document"]["all"]["hosts"]
    assert hosts["lb-1"]["nginx_lb_tls_certificate_content"] == pem(pki.leaf, pki.intermediate)
    assert [h for h in hosts if "nginx_lb_tls_certificate_content" in hosts[h]] == ["lb-1"]
    key = store_for(inventory).records()["tls_key"].value
    assert seen["secrets"]["tls_key"] == key
    assert split_host_vars(seen["secrets"])["ssas_tls_key"] == key

    # The run dir holds the key only vault-encrypted, never in clear text.
    workspace = create_workspace_for_inventory(seen["document"], seen["secrets"])
    try:
        for path in workspace.root.rglob("*"):
            if path.is_file():
                assert key.splitlines()[1].encode() not in path.read_bytes(), path
        from ansible.parsing.vault import VaultLib, VaultSecret

        secret = VaultSecret(workspace.vault_password.encode())
        plain = VaultLib([("ssas-run", secret)]).decrypt(workspace.secrets_vars.read_bytes())
        assert json.loads(plain)["ssas_tls_key"] == key
    finally:
        remove_workspace(workspace)


def test_the_load_balancer_play_hands_the_key_to_nginx_lb_and_its_config_uses_the_files(
        site, pki):
    play = next(p for p in yaml.safe_load((REPO / "playbooks/site.yml").read_text())
                if p["hosts"] == "load_balancer")
    role = next(r for r in play["roles"] if r["role"] == "nginx_lb")
    assert role["vars"]["nginx_lb_tls_key_content"] == "{{ ssas_tls_key | default('') }}"
    spec = yaml.safe_load((REPO / "roles/nginx_lb/meta/argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert options["nginx_lb_tls_key_content"]["no_log"] is True

    from ssas_deploy.rendering import render_deployment

    inventory, _, profile = site
    files = render_deployment(deployment(profile("provided"), inventory))
    site_conf = next(f for f in files if f.host == "lb-1" and f.spec.dest.endswith("ssas.conf"))
    assert "ssl_certificate /etc/ssl/ssas/ssas.crt;" in site_conf.content
    assert "ssl_certificate_key /etc/ssl/ssas/ssas.key;" in site_conf.content


def test_provided_without_an_import_stops_before_the_vault_is_opened(site, tmp_path,
                                                                     monkeypatch):
    inventory, password_file, profile = site
    captured_run(monkeypatch, tmp_path)
    with pytest.raises(InvalidInputError, match=r"site.tls: provided, but no certificate was "
                                                r"imported .* secrets import-tls --cert"):
        apply_to(profile("provided"), inventory, password_file)
    assert not (inventory.parent / "hosts.secrets.vault.yml").exists()


def test_a_vault_key_that_no_longer_matches_the_chain_is_refused(site, pki, tmp_path,
                                                                 monkeypatch):
    from cryptography.hazmat.primitives import serialization

    inventory, password_file, profile = site
    given = tmp_path / "given"
    given.mkdir()
    store = store_for(inventory)
    import_tls(inventory, *pki.write(given), store.import_tls_key)
    other = new_key().private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    store.import_tls_key(other)
    captured_run(monkeypatch, tmp_path)
    with pytest.raises(InvalidInputError, match="the stored key does not belong to") as caught:
        apply_to(profile("provided"), inventory, password_file)
    assert other.splitlines()[1] not in str(caught.value)


def test_self_signed_keeps_the_hosts_certificate_even_after_an_import(site, pki, tmp_path,
                                                                      monkeypatch):
    from ssas_deploy import console

    inventory, password_file, profile = site
    given = tmp_path / "given"
    given.mkdir()
    import_tls(inventory, *pki.write(given), store_for(inventory).import_tls_key)
    warnings = []
    monkeypatch.setattr(console, "display_warning", warnings.append)
    seen = captured_run(monkeypatch, tmp_path)
    apply_to(profile("self-signed"), inventory, password_file)
    assert not any("nginx_lb_tls_certificate_content" in v
                   for v in seen["document"]["all"]["hosts"].values())
    assert "tls_key" not in seen["secrets"]
    assert any("set site.tls: provided to serve it" in w for w in warnings)


def test_plan_and_apply_check_the_chain_again(site, pki, tmp_path):
    from ssas_deploy.profiles.loader import load_profile

    inventory, _, profile = site
    given = tmp_path / "given"
    given.mkdir()
    leaf, key = pki.leaf_for(not_after=datetime.now(UTC) + timedelta(days=60))
    import_tls(inventory, *pki.write(given, leaf, pki.intermediate, key=key),
               store_for(inventory).import_tls_key)
    school = load_profile(str(profile("provided")))
    chain, warnings = provided_chain(school, inventory)
    assert chain.leaf == leaf and warnings == []
    _, warnings = provided_chain(school, inventory, now=datetime.now(UTC) + timedelta(days=40))
    assert "expires on" in warnings[0]
    with pytest.raises(InvalidInputError, match="expired on"):
        provided_chain(school, inventory, now=datetime.now(UTC) + timedelta(days=61))
    renamed = school.model_copy(update={"site": school.site.model_copy(
        update={"server_name": "ssas.other.example"})})
    with pytest.raises(InvalidInputError, match=r"does not cover the server name "
                                                r"'ssas\.other\.example'"):
        provided_chain(renamed, inventory)


def test_plan_refuses_provided_without_an_import(site, pki, tmp_path):
    from ssas_deploy.cli.app import app

    inventory, _, profile = site
    args = ["plan", "--profile", str(profile("provided")), "--inventory", str(inventory),
            "--offline"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "site.tls: provided, but no certificate was imported" in result.output + result.stderr
    given = tmp_path / "given"
    given.mkdir()
    import_tls(inventory, *pki.write(given), store_for(inventory).import_tls_key)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + result.stderr
