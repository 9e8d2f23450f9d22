"""One contract, checked offline: every host's variables, as `apply` hands them to Ansible,
are accepted by the argument spec of every role that host runs (playbooks/site.yml), for
every built-in tier and for each at the least and the most hardware the schema accepts.

Ansible checks the same specs at run time (validate_argument_spec, the first task of each
role); this finds a tier that would hand a role a value it refuses before any host does.
"""

import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ssas_deploy.rendering import MASK, SECRET_NAMES
from ssas_deploy.runner.workspace import ansible_inventory

from .test_validators import TIERS, tier_deployment

REPO = Path(__file__).resolve().parents[2]


def _plays() -> list[tuple[set[str], list[str]]]:
    """(groups, roles) of each play of the site playbook."""
    plays = yaml.safe_load((REPO / "playbooks/site.yml").read_text())
    return [(set(play["hosts"].split(":")), [r["role"] for r in play["roles"]]) for play in plays]


# Roles a role includes itself, and on which hosts (include_role in its tasks).
INCLUDED = {"postgresql": [("patroni",
                            lambda v: v.get("postgresql_ha_manager") == "patroni")]}


def _roles_run(roles: list[str], variables: dict) -> list[str]:
    """The play's roles and those they include for a host with these variables."""
    out = []
    for role in roles:
        out.append(role)
        out += [inner for inner, runs in INCLUDED.get(role, []) if runs(variables)]
    return out


def _spec(role: str) -> dict:
    document = yaml.safe_load((REPO / f"roles/{role}/meta/argument_specs.yml").read_text())
    return document["argument_specs"]["main"]["options"]


def _defaults(role: str) -> dict:
    """The role's defaults Ansible would use where the host gives no value (templated
    ones, e.g. paths from role_path, are left out: they are not the host's to give)."""
    path = REPO / f"roles/{role}/defaults/main.yml"
    values = yaml.safe_load(path.read_text()) or {} if path.exists() else {}
    return {k: v for k, v in values.items() if not (isinstance(v, str) and "{{" in v)}


def _host_groups(document: dict) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for group, body in document["all"]["children"].items():
        for host in body["hosts"]:
            groups.setdefault(host, set()).add(group)
    return groups


@pytest.fixture(scope="module", params=TIERS)
def inventory(request, tmp_path_factory):
    deployment = tier_deployment(request.param, tmp_path_factory)
    # What apply adds for every host: the secrets (as extra vars) and the app's wheelhouse.
    extra = {"ssas_secrets": dict.fromkeys(SECRET_NAMES, MASK),
             "ssas_app_wheelhouse_dir": "/var/cache/ssas-deploy/wheelhouse"}
    return ansible_inventory(deployment, extra)


def test_every_role_accepts_the_variables_of_every_host_it_runs_on(inventory):
    host_vars = inventory["all"]["hosts"]
    groups = _host_groups(inventory)
    checked, refused = 0, []
    for play_groups, roles in _plays():
        for host, variables in host_vars.items():
            if "all" not in play_groups and not groups.get(host, set()) & play_groups:
                continue
            for role in _roles_run(roles, variables):
                spec = _spec(role)
                given = {**_defaults(role), **variables}
                arguments = {k: v for k, v in given.items() if k in spec}
                result = ArgumentSpecValidator(spec).validate(arguments)
                checked += 1
                refused += [f"{host} -> {role}: {message}" for message in result.error_messages]
    assert checked, "no host ran any role"
    assert not refused, "\n".join(refused)


def test_the_cluster_members_are_checked_against_the_included_patroni_role(inventory):
    host_vars = inventory["all"]["hosts"]
    members = [h for h, v in host_vars.items() if v.get("postgresql_ha_manager") == "patroni"]
    has_replicas = any("database_replica" in v.get("ssas_roles", []) for v in host_vars.values())
    assert len(members) >= 3 if has_replicas else not members
    for host in members:
        assert "patroni" in _roles_run(["postgresql"], host_vars[host])
        # A member without its Patroni variables is refused, so the check above means it.
        variables = {k: v for k, v in host_vars[host].items() if k != "patroni_scope"}
        spec = _spec("patroni")
        result = ArgumentSpecValidator(spec).validate(
            {k: v for k, v in variables.items() if k in spec})
        assert any("patroni_scope" in m for m in result.error_messages), host


def test_the_check_sees_a_refused_value(inventory):
    """A value outside a role's choices is reported, so a passing run means something."""
    spec = _spec("postgresql")
    host, variables = next((h, v) for h, v in inventory["all"]["hosts"].items()
                           if "postgresql_replication_role" in v)
    arguments = {k: v for k, v in {**_defaults("postgresql"), **variables}.items() if k in spec}
    arguments["postgresql_replication_role"] = "not-a-role"
    messages = ArgumentSpecValidator(spec).validate(arguments).error_messages
    assert any(re.search(r"postgresql_replication_role", m) for m in messages), (host, messages)
