"""A replica runs as a hot standby only with max_connections, max_worker_processes and
max_wal_senders at least the primary's (PostgreSQL 15 docs, 27.4.5): a smaller replica
follows the primary's values, and one too small to hold them is refused at validation."""

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.plan import size_deployment
from ssas_deploy.topology import build_topology

SMALLER_REPLICA = """\
extends: very-large
hosts:
  database_replica: {count: 2, cpu_cores: 4, ram_gib: %d, disk_gib: 2000, storage: ssd}
"""


def _postgres(profile, role):
    sizing = size_deployment(profile, build_topology(profile))
    host = sizing.topology.first(role)
    return sizing.hosts[host.name].postgresql


def test_a_smaller_replica_takes_the_primarys_connections_and_workers(write_profile):
    profile = load_profile(str(write_profile(SMALLER_REPLICA % 32)))
    primary, replica = _postgres(profile, Role.database), _postgres(profile, Role.database_replica)
    for name in ("max_connections", "max_worker_processes"):
        assert replica.value(name) == primary.value(name), name
        assert "primary" in replica.settings[name].formula
    # Its own hardware alone would derive less (4 cores against the primary's 16).
    assert replica.value("max_worker_processes") > 4


def test_an_equal_replica_keeps_its_own_derivation():
    profile = load_profile("very-large")
    replica = _postgres(profile, Role.database_replica)
    assert "primary" not in replica.settings["max_worker_processes"].formula


def test_replicas_get_the_primarys_wal_senders():
    deployment = build(load_profile("very-large"))
    primary = deployment.topology.first(Role.database)
    senders = {deployment.host_vars[h.name]["postgresql_wal_senders"]
               for h in deployment.topology.with_role(Role.database_replica)}
    assert senders == {deployment.host_vars[primary.name]["postgresql_wal_senders"]}
    assert senders != {0}


UNPOOLED = "database: {engine: postgresql, pooler: none}\n"


def test_a_replica_too_small_for_the_primarys_connections_is_refused(write_profile):
    # Without PgBouncer every app thread connects: the primary allows hundreds.
    primary = _postgres(load_profile(str(write_profile(SMALLER_REPLICA % 32 + UNPOOLED))),
                        Role.database)
    assert primary.value("max_connections") > 300
    with pytest.raises(InvalidInputError) as refused:
        load_profile(str(write_profile(SMALLER_REPLICA % 1 + UNPOOLED)))
    text = str(refused.value)
    assert "database_replica" in text and "ram_gib" in text, text
    assert f"{primary.value('max_connections')} connections" in text, text
