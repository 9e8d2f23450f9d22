"""nftables rules per host: only the load balancer is public; data ports admit their clients."""

from ssas_deploy.context import paths
from ssas_deploy.context.patroni import (
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    RESTAPI_PORT,
    etcd_members,
    patroni_cluster,
)
from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.plan import DeploymentSizing
from ssas_deploy.sizing.redis import BROKER_PORT, CACHE_PORT, SENTINEL_PORT
from ssas_deploy.topology import Host


def firewall_rules(deployment: DeploymentSizing, host: Host) -> list[dict]:
    topology = deployment.topology
    others = [h for h in topology.hosts if h.name != host.name]
    app = [h.address for h in others if h.has(Role.web) or h.has(Role.celery_worker)]
    rules: list[dict] = []

    def allow(port: int, sources: list[str] | None, comment: str) -> None:
        if sources is None or sources:
            rules.append({"port": port, "proto": "tcp", "sources": sorted(set(sources or [])),
                          "comment": comment})

    if host.has(Role.load_balancer):
        allow(80, None, "http from anywhere (redirects to https)")
        allow(443, None, "https from anywhere")
    if host.has(Role.web):
        lbs = [h.address for h in others if h.has(Role.load_balancer)]
        allow(paths.GUNICORN_PORT, lbs, "gunicorn from the load balancer")
    is_db = any(host.has(r) for r in (Role.database, Role.database_replica, Role.database_shard))
    if is_db:
        if deployment.profile.database.pooler == "pgbouncer":
            allow(paths.PGBOUNCER_PORT, app, "pgbouncer from app hosts")
        else:
            allow(paths.POSTGRES_PORT, app, "postgresql from app hosts")
        _allow_patroni_cluster(deployment, host, allow)
    for role, port, name in ((Role.redis_cache, CACHE_PORT, "redis cache"),
                             (Role.redis_broker, BROKER_PORT, "redis broker")):
        if host.has(role):
            peers = [h.address for h in others if h.has(role)]
            allow(port, app + peers, f"{name} from app hosts and replicas")
            if peers:
                allow(SENTINEL_PORT, app + peers, f"sentinel for the {name}")
    return _merge_same_port(rules)


def _allow_patroni_cluster(deployment: DeploymentSizing, host: Host, allow) -> None:
    """Between the HA cluster's members only: any member may lead, so each takes
    replication and pg_rewind (PostgreSQL), Patroni's REST API (a member asks the others
    before it promotes itself) and etcd's client port from the others; etcd's peer port
    from the other DCS members."""
    members = patroni_cluster(deployment.topology)
    if host.name not in {m.name for m in members}:
        return
    peers = [m.address for m in members if m.name != host.name]
    allow(paths.POSTGRES_PORT, peers, "replication and pg_rewind from the Patroni members")
    allow(RESTAPI_PORT, peers, "Patroni REST API from the other members")
    dcs = etcd_members(deployment.topology)
    if host.name in {m.name for m in dcs}:
        allow(ETCD_CLIENT_PORT, peers, "etcd clients (Patroni) on the Patroni members")
        allow(ETCD_PEER_PORT, [m.address for m in dcs if m.name != host.name],
              "etcd peers")


def _merge_same_port(rules: list[dict]) -> list[dict]:
    merged: dict[int, dict] = {}
    for rule in rules:
        if rule["port"] in merged and merged[rule["port"]]["sources"] and rule["sources"]:
            existing = merged[rule["port"]]
            existing["sources"] = sorted(set(existing["sources"]) | set(rule["sources"]))
            existing["comment"] += f"; {rule['comment']}"
        else:
            merged.setdefault(rule["port"], rule)
    return list(merged.values())
