"""restore.replacement: `--to-host` parsing, the inventory rewrite and the pinned host keys."""

from pathlib import Path

import pytest

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.restore import replacement as rep
from ssas_deploy.restore.plan import RestoreRefused
from ssas_deploy.restore.replacement import (
    Replacement,
    check_replaceable,
    commit_inventory,
    parse_replacements,
    rewritten_inventory,
    staged_inventory,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "inventories" / "large.example.yaml"


def test_to_host_values_parse_into_names_and_addresses():
    assert parse_replacements(["db-1", "shard-1=10.0.9.9"]) == [
        Replacement("db-1", None), Replacement("shard-1", "10.0.9.9")]


@pytest.mark.parametrize("bad", ["=10.0.0.1", "db-1=", "db-1=10.0.0.1; rm -rf /", "db-1=a b"])
def test_malformed_to_host_is_refused(bad):
    with pytest.raises(RestoreRefused, match="NAME=ADDRESS"):
        parse_replacements([bad])


def test_a_host_named_twice_is_refused():
    with pytest.raises(RestoreRefused, match="twice"):
        parse_replacements(["db-1", "db-1=10.0.0.2"])


def test_only_database_hosts_can_be_replaced():
    check_replaceable([Replacement("db-1", None)], ["db-1"])
    with pytest.raises(RestoreRefused, match=r"web-1: not a database host.*db-1"):
        check_replaceable([Replacement("web-1", None)], ["db-1"])


def test_rewrite_changes_only_that_address_and_keeps_comments(tmp_path):
    inventory = tmp_path / "hosts.yaml"
    original = EXAMPLE.read_text(encoding="utf-8")
    inventory.write_text(original, encoding="utf-8")
    text = rewritten_inventory(inventory, [Replacement("db-1", "10.0.1.21")])
    changed = [(a, b) for a, b in zip(original.splitlines(), text.splitlines(), strict=True)
               if a != b]
    assert changed == [("    - {name: db-1, address: 10.0.1.20}",
                        "    - {name: db-1, address: 10.0.1.21}")]
    # The rewritten file is a valid inventory of the same profile, with db-1 moved.
    staged = staged_inventory(inventory, text)
    deployment = load_deployment("large", staged, warn=False)
    assert deployment.topology.by_name("db-1").address == "10.0.1.21"
    assert staged.stat().st_mode & 0o777 == inventory.stat().st_mode & 0o777
    kept = commit_inventory(inventory, staged, "20261130120000")
    assert kept.read_text(encoding="utf-8") == original
    assert inventory.read_text(encoding="utf-8") == text and not staged.exists()
    # A second replacement keeps the first copy and stamps its own.
    again = commit_inventory(inventory, staged_inventory(inventory, original), "20261201")
    assert again.name == "hosts.yaml.before-restore-20261201" and kept.exists()


def test_rewrite_of_a_block_style_quoted_entry(tmp_path):
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text('hosts:\n  database:\n    - name: db-1\n      address: "10.0.0.5"  '
                         '# old\n  web:\n    - name: web-1\n      address: 10.0.0.5\n',
                         encoding="utf-8")
    text = rewritten_inventory(inventory, [Replacement("db-1", "10.0.0.6")])
    assert 'address: "10.0.0.6"  # old' in text and "      address: 10.0.0.5\n" in text


def test_same_or_no_address_leaves_the_inventory_alone(tmp_path):
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert rewritten_inventory(inventory, [Replacement("db-1", None)]) is None
    assert rewritten_inventory(inventory, [Replacement("db-1", "10.0.1.20")]) is None


def test_an_unknown_host_is_refused(tmp_path):
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(RestoreRefused, match="no host named db-9"):
        rewritten_inventory(inventory, [Replacement("db-9", "10.0.0.1")])


def test_crlf_symlinks_modes_and_bare_numbers(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_bytes(EXAMPLE.read_text(encoding="utf-8").replace("\n", "\r\n").encode())
    real.chmod(0o644)
    link = tmp_path / "hosts.yaml"
    link.symlink_to(real)
    text = rewritten_inventory(link, [Replacement("db-1", "10")])
    assert text.count("\r\n") == EXAMPLE.read_text(encoding="utf-8").count("\n")
    assert '{name: db-1, address: "10"}' in text  # bare 10 would be a number
    staged = staged_inventory(link, text)
    assert staged.parent == tmp_path and staged.stat().st_mode & 0o777 == 0o644
    commit_inventory(link, staged, "x")
    assert link.is_symlink() and real.read_bytes() == text.encode()


def test_a_member_of_the_patroni_cluster_is_not_replaced():
    from ssas_deploy.context.build import build
    from ssas_deploy.context.patroni import patroni_cluster
    from ssas_deploy.profiles.loader import load_profile

    members = [h.name for h in patroni_cluster(build(load_profile("very-large")).topology)]
    assert members == ["db-1", "db-replica-1", "db-replica-2"]
    with pytest.raises(RestoreRefused, match="db-1: a member of the Patroni cluster"):
        rep.check_not_cluster_members(rep.parse_replacements(["db-1=10.0.0.9"]), members)
    rep.check_not_cluster_members(rep.parse_replacements(["db-shard-1"]), members)


def test_a_deployment_with_a_patroni_cluster_is_not_restored():
    with pytest.raises(RestoreRefused, match=r"Patroni cluster \(db-1, db-replica-1"):
        rep.check_no_patroni_cluster(["db-1", "db-replica-1", "db-replica-2"])
    rep.check_no_patroni_cluster([])
