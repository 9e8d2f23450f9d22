"""nftables rules per host: only the load balancer is public; data ports admit their clients."""

from ssas_deploy.context import paths
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
        if host.has(Role.database):
            replicas = [h.address for h in others if h.has(Role.database_replica)]
            allow(paths.POSTGRES_PORT, replicas, "replication from replicas")
    for role, port, name in ((Role.redis_cache, CACHE_PORT, "redis cache"),
                             (Role.redis_broker, BROKER_PORT, "redis broker")):
        if host.has(role):
            peers = [h.address for h in others if h.has(role)]
            allow(port, app + peers, f"{name} from app hosts and replicas")
            if peers:
                allow(SENTINEL_PORT, app + peers, f"sentinel for the {name}")
    return _merge_same_port(rules)


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
