"""Patroni's and etcd's variables for the very-large tier's PostgreSQL cluster."""

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.context.patroni import etcd_members, patroni_members, patroni_vars
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.plan import size_deployment
from ssas_deploy.topology import build_topology


def deployment_of(name: str, **hosts):
    return build(profile_of(name, **hosts))


def profile_of(name: str, **hosts):
    profile = load_profile(name)
    if hosts:
        specs = profile.hosts.model_copy(update={
            role: getattr(profile.hosts, role).model_copy(update=changes)
            for role, changes in hosts.items()})
        profile = profile.model_copy(update={"hosts": specs})
    return profile


def test_the_primary_and_its_replicas_form_the_cluster_and_etcd_runs_on_them():
    deployment = deployment_of("very-large")
    members = [h.name for h in patroni_members(deployment.topology)]
    assert members == ["db-1", "db-replica-1", "db-replica-2"]
    assert [h.name for h in etcd_members(deployment.topology)] == members
    peers = {h.name: patroni_vars(deployment.sizing, h)
             for h in patroni_members(deployment.topology)}
    initial = peers["db-1"]["etcd_initial_cluster"]
    assert initial.count("=https://") == 3
    # One cluster, one DCS: every member is told the same.
    for key in ("patroni_scope", "patroni_etcd_hosts", "patroni_cluster_parameters",
                "patroni_dcs", "etcd_initial_cluster"):
        assert len({repr(v[key]) for v in peers.values()}) == 1, key


def test_shared_settings_are_the_primarys_and_the_rpo_follows_the_profile():
    deployment = deployment_of("very-large")
    primary = deployment.sizing.hosts["db-1"].postgresql.settings
    replica = deployment.topology.by_name("db-replica-2")
    shared = patroni_vars(deployment.sizing, replica)["patroni_cluster_parameters"]
    assert shared["max_connections"] == primary["max_connections"].value
    assert shared["max_worker_processes"] == primary["max_worker_processes"].value
    assert shared["max_wal_senders"] == shared["max_replication_slots"] == 5
    assert shared["wal_log_hints"] == "on"
    assert patroni_vars(deployment.sizing, replica)["patroni_dcs"]["synchronous_mode"] is True


def test_hosts_outside_the_cluster_and_clusters_without_quorum_are_refused():
    deployment = deployment_of("very-large")
    shard = deployment.topology.first(Role.database_shard)
    with pytest.raises(ValueError, match="db-shard-1 is not a member"):
        patroni_vars(deployment.sizing, shard)
    # `profiles validate` refuses this profile; built anyway, no host gets a cluster of 2.
    profile = profile_of("very-large", database_replica={"count": 1})
    two = size_deployment(profile, build_topology(profile))
    with pytest.raises(ValueError, match="needs 3 members for etcd's quorum, the profile has 2"):
        patroni_vars(two, two.topology.first(Role.database))
    with pytest.raises(ValueError, match="needs 3 members"):
        build(profile_of("very-large", database_replica={"count": 1}))


def test_every_member_accepts_replication_and_rewind_from_the_others_over_tls():
    deployment = deployment_of("very-large")
    for host in patroni_members(deployment.topology):
        hba = deployment.host_vars[host.name]["postgresql_hba"]
        peers = {h.address for h in patroni_members(deployment.topology) if h is not host}
        for database, user in (("replication", "replicator"), ("postgres", "rewind")):
            sources = {r["address"] for r in hba
                       if (r["database"], r["user"]) == (database, user)}
            assert len(sources) == len(peers) == 2, (host.name, database)
            assert all(r["type"] == "hostssl" for r in hba if r["user"] in ("replicator",
                                                                            "rewind"))


def test_a_shard_server_takes_no_replication_and_listens_only_for_its_pooler():
    deployment = deployment_of("very-large")
    for shard in deployment.topology.with_role(Role.database_shard):
        hv = deployment.host_vars[shard.name]
        assert not [r for r in hv["postgresql_hba"] if r["user"] in ("replicator", "rewind")]
        # PgBouncer on the same host is the only client: loopback is enough.
        assert hv["postgresql_listen_addresses"] == "localhost", shard.name


def test_shared_settings_below_patronis_floors_are_raised_to_them():
    """Patroni runs a shared setting below its floor with its own default instead (100
    connections for 19): the floor is what the members are told, and run."""
    small = deployment_of("very-large", database={"cpu_cores": 2, "ram_gib": 2},
                          database_replica={"cpu_cores": 2, "ram_gib": 2})
    sized = small.sizing.hosts["db-1"].postgresql.settings["max_connections"].value
    shared = patroni_vars(small.sizing, small.topology.first(Role.database))
    assert sized < 25
    assert shared["patroni_cluster_parameters"]["max_connections"] == 25
    big = deployment_of("very-large")
    shared = patroni_vars(big.sizing, big.topology.first(Role.database))
    assert shared["patroni_cluster_parameters"]["max_connections"] == \
        big.sizing.hosts["db-1"].postgresql.settings["max_connections"].value


def test_only_the_members_reach_each_others_patroni_etcd_and_replication_ports():
    deployment = deployment_of("very-large")
    members = {h.name: h.address for h in patroni_members(deployment.topology)}
    for host in deployment.topology.hosts:
        rules = {r["port"]: set(r["sources"]) for r in
                 deployment.host_vars[host.name]["common_firewall_rules"]}
        if host.name in members:
            peers = {a for n, a in members.items() if n != host.name}
            for port in (5432, 8008, 2379, 2380):
                assert rules[port] == peers, (host.name, port)
        else:
            assert not {8008, 2379, 2380} & set(rules), host.name
            assert 5432 not in rules or not rules[5432] & set(members.values()), host.name


def test_the_apps_default_database_is_whichever_member_takes_writes():
    deployment = deployment_of("very-large")
    members = [h.address for h in patroni_members(deployment.topology)]
    for host in deployment.topology.hosts:
        databases = deployment.host_vars[host.name].get("ssas_django_databases")
        if not databases:
            continue
        default = databases["default"]
        assert default["HOST"].split(",") == members, host.name
        assert default["OPTIONS"]["target_session_attrs"] == "read-write"
        assert default["OPTIONS"]["sslmode"] == "require"
        # A kept connection through a PgBouncer whose server was demoted would stay read-only.
        assert default["CONN_MAX_AGE"] == 0
    # Without replicas there is no cluster: one host, no session attributes.
    large = deployment_of("large")
    default = large.host_vars["web-1"]["ssas_django_databases"]["default"]
    assert "," not in default["HOST"] and "target_session_attrs" not in default["OPTIONS"]


def test_only_the_members_run_postgresql_under_patroni():
    deployment = deployment_of("very-large")
    managed = {name: hv.get("postgresql_ha_manager") for name, hv in
               deployment.host_vars.items() if "postgresql_ha_manager" in hv}
    assert {n for n, m in managed.items() if m == "patroni"} == \
        {h.name for h in patroni_members(deployment.topology)}
    assert all(m == "systemd" for n, m in managed.items() if n.startswith("db-shard"))
    assert all(hv.get("postgresql_ha_manager", "systemd") == "systemd"
               for hv in deployment_of("large").host_vars.values())


def test_etcd_binds_to_ip_addresses_only():
    """etcd refuses a DNS name in a listen URL: a named member listens on every address."""
    from ssas_deploy.files import files_for_host
    from ssas_deploy.rendering import environment

    named = deployment_of("very-large")  # placeholder names: db-1, ...
    hv = named.host_vars["db-1"]
    assert hv["etcd_listen_address"] == "0.0.0.0"
    spec = next(f for f in files_for_host(hv) if f.dest == "/etc/default/etcd")
    text = environment().get_template(spec.template).render(hv)
    listen = [line for line in text.splitlines() if line.startswith("ETCD_LISTEN_")]
    assert listen == ['ETCD_LISTEN_PEER_URLS="https://0.0.0.0:2380"',
                      'ETCD_LISTEN_CLIENT_URLS="https://0.0.0.0:2379"']
    assert 'ETCD_ADVERTISE_CLIENT_URLS="https://db-1:2379"' in text


def test_each_members_postgresql_conf_names_the_wal_senders_patroni_starts_it_with():
    deployment = deployment_of("very-large")
    for member in patroni_members(deployment.topology):
        wanted = patroni_vars(deployment.sizing, member)["patroni_cluster_parameters"]
        assert deployment.host_vars[member.name]["postgresql_wal_senders"] \
            == wanted["max_wal_senders"] == 5
