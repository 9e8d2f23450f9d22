"""context.build: profile (+ inventory) -> one plain dict of template variables per host.

The same dicts are what `render` feeds Jinja and what `apply` hands Ansible as host vars.
"""

from dataclasses import dataclass

from ssas_deploy.context import paths
from ssas_deploy.context.backup import backup_vars
from ssas_deploy.context.django import django_vars
from ssas_deploy.context.firewall import firewall_rules
from ssas_deploy.context.patroni import patroni_cluster, patroni_vars
from ssas_deploy.context.services import (
    celery_settings_vars,
    celery_vars,
    database_vars,
    gunicorn_vars,
    nginx_vars,
    pgbouncer_vars,
    redis_vars,
)
from ssas_deploy.profiles.models import Profile, Role
from ssas_deploy.sizing.plan import DeploymentSizing, size_deployment
from ssas_deploy.topology import Placement, Topology, build_topology

# Security updates install themselves; reboots stay with the school's IT.
UNATTENDED_UPGRADES = {
    "common_unattended_upgrades_enabled": True,
    "common_unattended_upgrades_origins": [
        "origin=Debian,codename=${distro_codename}-security,label=Debian-Security",
        "origin=Debian,codename=${distro_codename},label=Debian-Security",
    ],
    "common_unattended_upgrades_package_blacklist": [],
    "common_unattended_upgrades_remove_unused_dependencies": True,
    "common_unattended_upgrades_automatic_reboot": False,
    "common_unattended_upgrades_automatic_reboot_time": "03:30",
}


@dataclass
class Deployment:
    profile: Profile
    topology: Topology
    sizing: DeploymentSizing
    host_vars: dict[str, dict]


def build(profile: Profile, placements: dict[Role, Placement] | None = None) -> Deployment:
    topology = build_topology(profile, placements)
    sizing = size_deployment(profile, topology)
    host_vars = {name: _host_vars(sizing, name) for name in sizing.hosts}
    return Deployment(profile, topology, sizing, host_vars)


def _host_vars(deployment: DeploymentSizing, name: str) -> dict:
    sizing = deployment.hosts[name]
    host = sizing.host
    profile = deployment.profile
    runs_app = host.has(Role.web) or host.has(Role.celery_worker)
    out: dict = {
        "ssas_profile_name": profile.name,
        "ssas_tier": profile.tier.value,
        "ssas_hostname": host.name,
        "ssas_address": host.address,
        "ssas_roles": sorted(r.value for r in host.roles),
        "ssas_server_name": profile.site.server_name,
        "ssas_database_engine": profile.database.engine,
        "ssas_database_pooler": profile.database.pooler,
        **paths.paths_vars(),
        **UNATTENDED_UPGRADES,
        "common_ssh_port": host.ssh.port,
        "common_ssh_sources": [],
        "common_firewall_rules": firewall_rules(deployment, host),
        "common_service_users": (
            [{"name": paths.APP_USER, "home": paths.APP_DIR}] if runs_app else []
        ),
    }
    if sizing.postgresql:
        out.update(database_vars(deployment, sizing))
    if host.name in {m.name for m in patroni_cluster(deployment.topology)}:
        out.update(patroni_vars(deployment, host))
    if sizing.pgbouncer:
        out.update(pgbouncer_vars(deployment, sizing))
    if sizing.redis:
        out.update(redis_vars(deployment, sizing))
    if runs_app:
        out.update(django_vars(deployment, host))
        out.update(celery_settings_vars())
    if sizing.gunicorn:
        out.update(gunicorn_vars(sizing, deployment.topology))
    if sizing.celery_groups:
        out.update(celery_vars(deployment, sizing))
    if sizing.nginx:
        out.update(nginx_vars(deployment, sizing))
    out.update(backup_vars(deployment, host))
    return out
