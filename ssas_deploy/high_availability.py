"""The high-availability layout a deployment asks for, as `plan --explain` and `plan --json`
show it: who may take over from whom, how many must agree, how fast, and what may be lost.

Every figure comes from the constants the rendered configuration uses (context.patroni for
Patroni and etcd, context.services for Sentinel), so the plan cannot tell another story than
the files it writes.
"""

from ssas_deploy.context.backup import archive_settings
from ssas_deploy.context.build import Deployment
from ssas_deploy.context.patroni import DCS_TIMING, SCOPE, etcd_members, patroni_members
from ssas_deploy.context.services import SENTINEL_TIMING, sentinel_quorum
from ssas_deploy.profiles.models import Role
from ssas_deploy.topology import Host

# How the app places schools (app: ssas.sharding.placement); shown by `plan --explain`.
PLACEMENT = ("the school -> shard map lives in the default database; a new school goes to "
             "the shard holding the fewest schools (ties: the lowest shard number) and stays "
             "there; adding a shard moves no school; `ssas-manage move_school SCHOOL --to "
             "shard_N` moves one")


def majority(members: int) -> int:
    """Votes needed out of `members` (Raft and Sentinel failover authorization: a strict
    majority, floor(n/2) + 1). Raises ValueError for fewer than one member."""
    if members < 1:
        raise ValueError("a quorum needs at least one member")
    return members // 2 + 1


def ha_layout(deployment: Deployment) -> dict:
    """{"postgresql": dict | None, "redis": [dict, ...], "shards": dict | None}.

    postgresql: the Patroni cluster of the primary and its replicas; with no replica,
    {"manager": None, "host", "rpo_s"} (one server, recovered from backups); None with
    SQLite. redis: one entry per Redis group (Sentinel's figures where it has two or more
    hosts; "sentinels" empty for one server, which has no failover). shards: the
    school-keyed shard databases (None without shards).
    Times are in seconds, WAL amounts in bytes.
    """
    return {
        "postgresql": _postgresql(deployment),
        "redis": _redis_groups(deployment),
        "shards": _shards(deployment),
    }


def _postgresql(deployment: Deployment) -> dict | None:
    topology = deployment.topology
    members = patroni_members(topology)
    if not members:
        return None  # SQLite on the one server
    if len(members) == 1:
        return {"manager": None, "host": members[0].name,
                "rpo_s": _backup_rpo_s(deployment, members[0])}
    dcs = etcd_members(topology)
    synchronous = deployment.profile.database.synchronous_replication
    lag = DCS_TIMING["maximum_lag_on_failover"]
    if synchronous:
        rpo = ("0 for acknowledged commits: a commit returns once the synchronous standby has "
               "flushed it, and only that standby is promoted (Patroni synchronous_mode). "
               "With no standby running, Patroni turns synchronous replication off so the "
               "primary keeps taking writes (synchronous_mode_strict is off).")
    else:
        rpo = (f"up to {lag:,} bytes of WAL (maximum_lag_on_failover): a replica further "
               "behind is never promoted.")
    return {
        "manager": "Patroni",
        "scope": SCOPE,
        "members": [{"host": m.name, "address": m.address,
                     "bootstrap_role": "leader" if i == 0 else "replica",
                     "failover_candidate": True, "etcd": m in dcs}
                    for i, m in enumerate(members)],
        "dcs": {"engine": "etcd", "members": [m.name for m in dcs],
                "quorum": majority(len(dcs)), "tolerates": len(dcs) - majority(len(dcs))},
        "synchronous_mode": synchronous,
        # The leader renews its key every loop_wait; replicas act on the loop after the key
        # expires (Patroni docs, "Dynamic Configuration Settings").
        "failover_within_s": DCS_TIMING["ttl"] + DCS_TIMING["loop_wait"],
        "ttl_s": DCS_TIMING["ttl"],
        "loop_wait_s": DCS_TIMING["loop_wait"],
        "rpo": rpo,
        # A restore's recovery point: every member archives while it leads (context.backup).
        "backup_rpo_s": _backup_rpo_s(deployment, members[0]),
    }


def _backup_rpo_s(deployment: Deployment, host: Host) -> int | None:
    """Seconds of writes a restore of `host` may lose: archive_timeout, the longest a WAL
    segment waits before it is archived (None: nothing archives it, no backup host)."""
    archive = archive_settings(deployment.sizing, host)
    return int(archive["archive_timeout"]) if archive else None


def _redis_groups(deployment: Deployment) -> list[dict]:
    groups = []
    for role, name in ((Role.redis_cache, "cache"), (Role.redis_broker, "broker")):
        hosts = deployment.topology.with_role(role)
        if len(hosts) == 1:
            groups.append({"group": name, "nodes": [{"host": hosts[0].name,
                                                     "address": hosts[0].address,
                                                     "bootstrap_role": "primary"}],
                           "sentinels": []})
        if len(hosts) < 2:
            continue
        groups.append({
            "group": name,
            "master_name": f"ssas-{name}",
            "nodes": [{"host": h.name, "address": h.address,
                       "bootstrap_role": "primary" if i == 0 else "replica"}
                      for i, h in enumerate(hosts)],
            "sentinels": [h.name for h in hosts],
            "quorum": sentinel_quorum(len(hosts)),
            "failover_authorized_by": majority(len(hosts)),
            "down_after_s": SENTINEL_TIMING["down_after_ms"] / 1000,
            "failover_timeout_s": SENTINEL_TIMING["failover_timeout_ms"] / 1000,
            "rpo": ("writes the primary acknowledged but had not yet sent to a replica "
                    "(Redis replicates asynchronously)" + (
                        "; the cache may lose any entry: a miss is recomputed"
                        if name == "cache" else
                        "; a Celery task published in that window is lost")),
        })
    return groups


def _shards(deployment: Deployment) -> dict | None:
    topology = deployment.topology
    shards = topology.with_role(Role.database_shard)
    if not shards:
        return None
    profile = deployment.profile
    databases = []
    for host in shards:
        databases.append({
            "alias": f"shard_{host.index}", "host": host.name, "address": host.address,
            "database": f"{profile.database.name}_shard_{host.index}",
            # A shard is one server: it comes back from its pgBackRest backups.
            "rpo_s": _backup_rpo_s(deployment, host),
        })
    return {"key": "school code", "placement": PLACEMENT, "databases": databases}
