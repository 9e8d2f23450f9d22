"""Verify the patroni role on three real (containerised) Debian 12 hosts: the very-large
tier's PostgreSQL cluster members, run by Patroni with a 3-member etcd beside it."""

import json
import os
import sys
import time
from pathlib import Path

import pytest
import testinfra

SCENARIO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SCENARIO.parents[3]))
from tests.molecule_support import kill_9_and_wait_for_restart  # noqa: E402

FAILOVER_BOUND_S = 60
CA = "/etc/ssl/certs/ssas-pg-ha-ca.pem"
ETCDCTL = ("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert " + CA +
           " --cert /etc/ssl/certs/ssas-pg-ha-member.pem"
           " --key /etc/ssl/private/ssas-pg-ha-member.key")  # ttl 30 s + loop_wait 10 s, with a busy 2-core machine's slack


def members():
    prefix = os.environ.get("SSAS_MOLECULE_INSTANCE", "ssas-molecule-patroni")
    return [testinfra.get_host(f"podman://{prefix}-{i}") for i in (1, 2, 3)]


def cluster(host) -> dict:
    """Patroni's view of the cluster (GET /cluster on this member's REST API)."""
    address = host.check_output("hostname -I").split()[0]
    return json.loads(host.check_output(f"python3 -c \"import ssl, urllib.request;"
                                        f"c = ssl.create_default_context(cafile='{CA}');"
                                        f"print(urllib.request.urlopen('https://{address}:8008"
                                        f"/cluster', context=c).read().decode())\""))


def psql(host, sql, database="postgres"):
    return host.check_output(f"runuser -u postgres -- psql -XAtq -d {database} -c \"{sql}\"")


def member_name(host) -> str:
    """The member's name in Patroni (its configuration's `name:`, a JSON string)."""
    line = host.check_output("grep '^name:' /etc/patroni/config.yml")
    return json.loads(line.split(":", 1)[1])


def leader_of(hosts):
    roles = {m["name"]: m["role"] for m in cluster(hosts[0])["members"]}
    names = [member_name(h) for h in hosts]
    leaders = [h for h, n in zip(hosts, names) if roles.get(n) == "leader"]
    assert len(leaders) == 1, roles
    return leaders[0]


def wait_for(predicate, timeout, what):
    start = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - start
        except (AssertionError, RuntimeError, json.JSONDecodeError):
            pass
        assert time.monotonic() - start < timeout, f"{what}: not within {timeout} s"
        time.sleep(1)


@pytest.fixture(scope="module")
def hosts():
    return members()


def test_etcd_and_the_rest_api_speak_only_tls_with_the_clusters_certificates(hosts):
    host = hosts[0]
    address = host.check_output("hostname -I").split()[0]
    # Plain HTTP is not served; a client without the CA's certificate is refused by etcd.
    plain = host.run(f"python3 -c \"import urllib.request; urllib.request.urlopen("
                     f"'http://{address}:8008/health', timeout=5)\"")
    assert plain.rc != 0
    anonymous = host.run("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 "
                         f"--cacert {CA} --dial-timeout=3s endpoint health")
    assert anonymous.rc != 0, anonymous.stdout
    # Each peer link is TLS: the advertised peer URLs.
    assert all("https://" in line for line in
               host.check_output(f"{ETCDCTL} member list").splitlines())
    key = host.file("/etc/ssl/private/ssas-pg-ha-member.key")
    assert (key.user, key.group, key.mode) == ("root", "ssl-cert", 0o640)


def test_etcd_has_three_members_and_a_quorum(hosts):
    for host in hosts:
        out = host.check_output(f"{ETCDCTL} endpoint health 2>&1")
        assert "is healthy" in out
    listed = hosts[0].check_output(f"{ETCDCTL} member list")
    assert len(listed.splitlines()) == 3, listed


def test_one_leader_a_synchronous_standby_and_a_streaming_replica(hosts):
    state = cluster(hosts[0])
    roles = sorted(m["role"] for m in state["members"])
    assert roles == ["leader", "replica", "sync_standby"], state
    for member in state["members"]:
        assert member["state"] in ("running", "streaming"), member
    for host in hosts:
        # Patroni runs the server; Debian's unit is masked so nothing starts a second one.
        assert host.service("patroni").is_running
        assert host.service("patroni").is_enabled
        assert host.check_output("systemctl is-enabled postgresql@15-main || true") == "masked"
        config = host.file("/etc/patroni/config.yml")
        assert (config.user, config.mode) == ("postgres", 0o600)


def cli_variables(host) -> dict:
    """The CLI's host variables the converge play used (prepare.yml wrote them)."""
    directory = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    return json.loads((directory / f"hostvars-{member_name(host)}.json").read_text())


def test_shared_settings_come_from_the_dcs_and_replicas_stream_over_tls(hosts):
    leader = leader_of(hosts)
    shared = cli_variables(hosts[0])["patroni_cluster_parameters"]
    # Sized for 2 GiB members (members.yaml): 19 connections, raised to Patroni's floor.
    assert shared["max_connections"] == 25
    for host in hosts:
        # Equal on every member, from the DCS, whichever member leads.
        for name in ("max_connections", "max_wal_senders", "max_worker_processes"):
            assert psql(host, f"SHOW {name}") == str(shared[name]), (member_name(host), name)
        assert psql(host, "SHOW wal_log_hints") == "on"
    assert psql(leader, "SHOW synchronous_commit") == "on"
    assert psql(leader, "SHOW synchronous_standby_names") != ""
    streams = psql(leader, "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s "
                           "ON s.pid = r.pid WHERE s.ssl AND r.state = 'streaming'")
    assert streams == "2"
    # The app's database and role are on the leader, and replicated.
    assert psql(leader, "SELECT datname FROM pg_database WHERE datname = 'ssas_production'") \
        == "ssas_production"


def test_the_leader_fails_over_without_losing_an_acknowledged_write(hosts):
    leader = leader_of(hosts)
    psql(leader, "CREATE TABLE IF NOT EXISTS ha_probe (id int PRIMARY KEY)")
    psql(leader, "INSERT INTO ha_probe SELECT g FROM generate_series(1, 500) g "
                 "ON CONFLICT DO NOTHING")
    before = psql(leader, "SELECT count(*) FROM ha_probe")
    old_name = member_name(leader)
    leader.check_output("systemctl stop patroni")
    others = [h for h in hosts if h is not leader]
    took = wait_for(lambda: leader_of(others) is not None
                    and psql(leader_of(others), "SELECT pg_is_in_recovery()") == "f",
                    FAILOVER_BOUND_S, "a replica promoted")
    new = leader_of(others)
    print(f"failover: {member_name(new)} leads {took:.1f} s after {old_name} "
          f"stopped")
    assert psql(new, "SELECT count(*) FROM ha_probe") == before
    # The old leader comes back as a replica of the new one (pg_rewind if it must).
    leader.check_output("systemctl start patroni")
    wait_for(lambda: {m["name"]: m["role"] for m in cluster(new)["members"]}
             .get(old_name) in ("replica", "sync_standby")
             and psql(leader, "SELECT pg_is_in_recovery()") == "t",
             120, f"{old_name} back as a replica")
    assert psql(leader, "SELECT count(*) FROM ha_probe") == before


def test_patroni_and_etcd_restart_by_themselves_after_a_crash(hosts):
    host = hosts[2]
    kill_9_and_wait_for_restart(host, "etcd.service", timeout=30)
    kill_9_and_wait_for_restart(host, "patroni.service", timeout=30)
