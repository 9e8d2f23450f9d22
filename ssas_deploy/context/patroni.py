"""Template variables of the PostgreSQL HA cluster: Patroni on the primary and its replicas,
with a 3-member etcd on the same hosts as the distributed configuration store (DCS).

Patroni owns the cluster: it bootstraps the primary, clones the replicas from it, promotes one
when the leader's key expires in etcd, and rewinds the old primary when it comes back. Our
sized postgresql.conf stays the tuning (Patroni's `custom_conf`, included before Patroni's
own settings); the settings PostgreSQL requires to be equal on every member go through the
DCS, so Patroni applies them cluster-wide (Patroni docs, "YAML Configuration Settings":
bootstrap.dcs.postgresql.parameters; PostgreSQL 15 docs 27.4.5 for the hot standby minimums).
"""

from ssas_deploy.context import paths
from ssas_deploy.profiles.models import Role, is_ip_address
from ssas_deploy.sizing.plan import DeploymentSizing
from ssas_deploy.topology import Host, Topology

SCOPE = "ssas-main"
NAMESPACE = "/ssas/"
RESTAPI_PORT = 8008
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
ETCD_DATA_DIR = "/var/lib/etcd/ssas"
# The cluster's TLS (ssas_deploy/cluster_tls.py): the CA and this member's certificate are
# public; the key is read by postgres (Patroni) and etcd through the ssl-cert group, as
# Debian's snakeoil key is.
TLS_CA_FILE = "/etc/ssl/certs/ssas-pg-ha-ca.pem"
TLS_CERT_FILE = "/etc/ssl/certs/ssas-pg-ha-member.pem"
TLS_KEY_FILE = "/etc/ssl/private/ssas-pg-ha-member.key"
# Patroni passes these on postgres's command line from the DCS, equal on every member.
CLUSTER_WIDE = ("max_connections", "max_locks_per_transaction", "max_worker_processes",
                "max_prepared_transactions", "wal_level", "track_commit_timestamp",
                "max_wal_senders", "max_replication_slots", "wal_keep_size")
# Patroni replaces a shared setting below its floor with its own default, silently
# (patroni/postgresql/config.py, CMDLINE_OPTIONS, 3.0): max_connections 19 would run as 100.
# Raised to the floor here, so what `plan` shows is what the servers run.
PATRONI_FLOORS = {"max_connections": 25, "max_wal_senders": 3, "max_replication_slots": 4,
                  "max_worker_processes": 2, "max_locks_per_transaction": 32}
# Patroni's defaults (docs, "Dynamic Configuration Settings"): the leader key lives `ttl` s;
# a failover follows within ttl + loop_wait. maximum_lag_on_failover: a replica further
# behind than 1 MiB of WAL is not promoted (asynchronous mode only).
DCS_TIMING = {"ttl": 30, "loop_wait": 10, "retry_timeout": 10,
              "maximum_lag_on_failover": 1048576}


def patroni_members(topology: Topology) -> list[Host]:
    """The main cluster's members, primary first: [database host, *database_replica hosts]."""
    return topology.with_role(Role.database) + topology.with_role(Role.database_replica)



def patroni_cluster(topology: Topology) -> list[Host]:
    """The members Patroni runs on: `patroni_members`, or [] when the profile has no replica
    (a lone primary is PostgreSQL's own systemd unit, with no failover to manage)."""
    return patroni_members(topology) if topology.with_role(Role.database_replica) else []


def etcd_members(topology: Topology) -> list[Host]:
    """The DCS members: the first three cluster members (quorum 2 survives one lost host)."""
    return patroni_members(topology)[:3]


def patroni_vars(deployment: DeploymentSizing, host: Host) -> dict:
    """Variables of templates/patroni/ for `host`, a member of the cluster.

    Returns a dict of `patroni_*` (and `etcd_*` when the host is a DCS member) keys.
    Raises ValueError for a host outside the cluster, or when the cluster has fewer than
    3 members (etcd needs three for a quorum that survives a lost host).
    """
    topology = deployment.topology
    members = patroni_members(topology)
    if host.name not in {m.name for m in members}:
        raise ValueError(f"{host.name} is not a member of the PostgreSQL cluster")
    if len(members) < 3:
        raise ValueError(f"Patroni needs 3 members for etcd's quorum, the profile has "
                         f"{len(members)}")
    primary = deployment.hosts[members[0].name].postgresql
    settings = {name: d.value for name, d in primary.settings.items()}
    senders = len(members) + 2  # every standby, plus a base backup and pg_rewind at once
    cluster = {name: settings[name] for name in CLUSTER_WIDE if name in settings}
    cluster.update({"wal_level": "replica", "max_wal_senders": senders,
                    "max_replication_slots": senders, "hot_standby": "on",
                    # pg_rewind of a failed primary needs hint bits in WAL.
                    "wal_log_hints": "on"})
    for name, floor in PATRONI_FLOORS.items():
        if name in cluster:
            cluster[name] = max(int(cluster[name]), floor)
    dcs_members = etcd_members(topology)
    out = {
        "patroni_scope": SCOPE,
        "patroni_namespace": NAMESPACE,
        "patroni_name": host.name,
        "patroni_address": host.address,
        "patroni_restapi_port": RESTAPI_PORT,
        "patroni_postgresql_port": paths.POSTGRES_PORT,
        "patroni_data_dir": f"/var/lib/postgresql/{paths.POSTGRES_VERSION}/main",
        "patroni_bin_dir": f"/usr/lib/postgresql/{paths.POSTGRES_VERSION}/bin",
        "patroni_custom_conf": f"{paths.PG_CONF_DIR}/postgresql.conf",
        "patroni_hba_file": f"{paths.PG_CONF_DIR}/pg_hba.conf",
        "patroni_etcd_hosts": [f"{m.address}:{ETCD_CLIENT_PORT}" for m in dcs_members],
        "patroni_dcs": {**DCS_TIMING,
                        "synchronous_mode": deployment.profile.database.synchronous_replication},
        "patroni_cluster_parameters": cluster,
        "patroni_members": [m.address for m in members],
        "patroni_tls_ca_file": TLS_CA_FILE,
        "patroni_tls_cert_file": TLS_CERT_FILE,
        "patroni_tls_key_file": TLS_KEY_FILE,
    }
    if host.name in {m.name for m in dcs_members}:
        out.update({
            "etcd_name": host.name,
            "etcd_data_dir": ETCD_DATA_DIR,
            "etcd_address": host.address,
            # etcd binds only to IP addresses ("a domain name is invalid for binding"): a
            # member named by DNS listens on every address (the firewall admits only the
            # members) and advertises its name.
            "etcd_listen_address": host.address if is_ip_address(host.address) else "0.0.0.0",
            "etcd_client_port": ETCD_CLIENT_PORT,
            "etcd_peer_port": ETCD_PEER_PORT,
            "etcd_initial_cluster": ",".join(f"{m.name}=https://{m.address}:{ETCD_PEER_PORT}"
                                             for m in dcs_members),
            "etcd_cluster_token": f"{deployment.profile.name}-{SCOPE}",
        })
    return out

