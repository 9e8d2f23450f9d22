import pytest

from ssas_deploy.context.build import build
from ssas_deploy.errors import InvalidInputError
from ssas_deploy.inventory import load_inventory
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role

from ..conftest import REPO


def test_example_inventory_places_every_host():
    profile = load_profile("large")
    placements = load_inventory(REPO / "inventories/large.example.yaml", profile)
    deployment = build(profile, placements)
    db = deployment.topology.by_name("db-1")
    assert db.address == "10.0.1.20"
    assert deployment.topology.by_name("worker-1").ssh.user == "admin"
    assert deployment.topology.by_name("web-2").ssh.user == "deploy"
    # Addresses flow into the configs: the database admits exactly the app hosts.
    [rule] = [r for r in deployment.host_vars["db-1"]["common_firewall_rules"]
              if r["port"] == 5432]
    assert rule["sources"] == ["10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.40"]
    upstreams = deployment.host_vars["lb-1"]["nginx_upstreams"]
    assert [u["address"] for u in upstreams] == ["10.0.1.10", "10.0.1.11", "10.0.1.12"]
    assert Role.redis_broker in deployment.topology.by_name("cache-1").roles


def errors_for(tmp_path, text, profile="large"):
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as caught:
        load_inventory(path, load_profile(profile))
    return path, [str(p) for p in caught.value.problems]


def test_wrong_counts_unknown_roles_and_duplicates(tmp_path):
    path, messages = errors_for(tmp_path, """\
hosts:
  load_balancer: [{name: lb-1, address: 10.0.0.1}]
  web: [{name: web-1, address: 10.0.0.2}]
  databse: [{name: db-1, address: 10.0.0.3}]
  redis_cache: [{name: cache-1, address: 10.0.0.2}]
  redis_broker: [{name: broker-1, address: 10.0.0.9}]
  celery_worker: [{name: lb-1, address: 10.0.0.4}]
""")
    joined = "\n".join(messages)
    assert f"{path}:3: hosts.web: profile 'large' needs 3 host(s), inventory lists 1" in joined
    assert f"{path}:4: hosts.databse: unknown role (did you mean 'database'?)" in joined
    assert f"{path}:6: hosts.redis_broker: role is colocated with redis_cache" in joined
    assert "missing role 'database'" in joined
    assert "duplicate host name 'lb-1'" in joined
    assert "duplicate address '10.0.0.2'" in joined


def test_malformed_entries_name_the_line(tmp_path):
    path, messages = errors_for(tmp_path, "hosts:\n  web:\n    - {name: web-1, port: 22}\n",
                                profile="small")
    assert messages == [
        f"{path}:3: hosts.web.0.address: required field is missing",
        f"{path}:3: hosts.web.0.port: unknown key; allowed: address, name, ssh"]


def test_unknown_keys_get_a_did_you_mean_and_problems_come_in_file_order(tmp_path):
    path, messages = errors_for(tmp_path, """hosts:
  web:
    - {name: web-1, address: '10.0.0.1;', ssh: {prot: 2222}}
ssh: {user: deploy, key_flie: ~/.ssh/id}
""", profile="small")
    assert messages == [
        f"{path}:3: hosts.web.0.address: '10.0.0.1;' is not an IP address or a host name "
        "(e.g. 10.0.1.5 or web1.school.internal)",
        f"{path}:3: hosts.web.0.ssh.prot: unknown key (did you mean 'port'?); "
        "allowed: key_file, port, user",
        f"{path}:4: ssh.key_flie: unknown key (did you mean 'key_file'?); "
        "allowed: key_file, port, user"]


@pytest.mark.parametrize("address", ["10.0.1.5; rm -rf /", "10.0.1.300", "10.0.1", "web one",
                                     "-web.example", "web..example", "x/y", "a" * 254])
def test_an_address_is_an_ip_address_or_a_host_name(tmp_path, address):
    """Addresses go unquoted into nftables, gunicorn and Django settings."""
    text = f"hosts:\n  web: [{{name: web-1, address: '{address}'}}]\n"
    path, messages = errors_for(tmp_path, text, profile="small")
    assert any(m.startswith(f"{path}:2: hosts.web.0.address") and "not an IP address or a host"
               in m for m in messages), messages


@pytest.mark.parametrize("address", ["10.0.1.5", "fd00::5", "web1.school.internal", "web-1"])
def test_ip_addresses_and_host_names_are_accepted(tmp_path, address):
    path = tmp_path / "hosts.yaml"
    path.write_text(f"hosts:\n  web: [{{name: web-1, address: '{address}'}}]\n"
                    "  backup: [{name: backup-1, address: 10.9.9.9}]\n")
    placements = load_inventory(path, load_profile("small"))
    assert placements[Role.web].addresses == [address]
