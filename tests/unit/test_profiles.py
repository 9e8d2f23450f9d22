import json
import re

import pytest

from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.loader import builtin_profile_names, load_profile_with_warnings
from ssas_deploy.profiles.models import Colocated, HostSpec, Tier


def problems_of(ref: str) -> list[str]:
    with pytest.raises(InvalidInputError) as caught:
        load_profile_with_warnings(ref)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("name", ["small", "medium", "large", "very-large"])
def test_builtin_profiles_load_without_warnings(name):
    profile, warnings = load_profile_with_warnings(name)
    assert profile.name == name
    assert warnings == []


def test_builtin_names_are_the_four_tiers():
    assert builtin_profile_names() == ["large", "medium", "small", "very-large"]


def test_guide_numbers_in_builtin_profiles():
    large, _ = load_profile_with_warnings("large")
    assert large.tier is Tier.large
    assert isinstance(large.hosts.web, HostSpec)
    assert (large.hosts.web.count, large.hosts.web.cpu_cores) == (3, 4)
    assert (large.targets.api_ms, large.targets.ml_ms) == (200, 500)
    assert (large.monthly_cost.usd_min, large.monthly_cost.usd_max) == (800, 1500)
    small, _ = load_profile_with_warnings("small")
    assert isinstance(small.hosts.database, Colocated)
    assert small.targets.batch_students_per_min == 100


def test_extends_overrides_only_given_keys(write_profile):
    path = write_profile(
        "name: district\nextends: large\nstudents: 2900\nhosts:\n  web: {count: 2}\n"
    )
    profile, _ = load_profile_with_warnings(str(path))
    assert profile.students == 2900
    assert profile.hosts.web.count == 2
    assert profile.hosts.web.cpu_cores == 4  # inherited
    assert profile.targets.api_ms == 200


def test_extends_accepts_a_path_relative_to_the_profile(write_profile, tmp_path):
    write_profile("name: base\nextends: small\nstudents: 700\n", name="base.yaml")
    child = write_profile("name: child\nextends: base.yaml\nstaff: 45\n", name="child.yaml")
    profile, _ = load_profile_with_warnings(str(child))
    assert (profile.students, profile.staff) == (700, 45)


def test_unknown_key_names_file_line_and_suggests(write_profile):
    path = write_profile(
        "name: x\nextends: small\nhosts:\n  web: {count: 1, cpu_corez: 2, ram_gib: 4, "
        "disk_gib: 50, storage: ssd}\n"
    )
    [message] = problems_of(str(path))
    assert message.startswith(f"{path}:4: hosts.web.cpu_corez: unknown key")
    assert "did you mean 'cpu_cores'?" in message


def test_all_errors_of_a_file_are_reported_at_once(write_profile):
    path = write_profile(
        "name: x\nextends: large\nstudentz: 10\ntargets:\n  api_ms: fast\n"
        "hosts:\n  web: {count: 2, cpu_cores: 0, ram_gib: 4, disk_gib: 50, storage: nvme}\n"
    )
    messages = problems_of(str(path))
    assert len(messages) == 4
    joined = "\n".join(messages)
    assert f"{path}:3: studentz: unknown key (did you mean 'students'?)" in joined
    assert f"{path}:5: targets.api_ms:" in joined
    assert f"{path}:7: hosts.web.cpu_cores: Input should be greater than or equal to 1" in joined
    assert f"{path}:7: hosts.web.storage: Input should be 'ssd' or 'hdd'" in joined
    # In the order of the file, as a reader fixes them.
    assert [int(m.split(":")[1]) for m in messages] == [3, 5, 7, 7]


def test_several_web_servers_need_a_load_balancer(write_profile):
    path = write_profile(
        "name: x\nextends: large\nhosts:\n  load_balancer: null\n"
    )
    messages = problems_of(str(path))
    assert any("hosts.web.count: several web servers need a load_balancer" in m
               for m in messages)


def test_sqlite_needs_a_single_server(write_profile):
    path = write_profile("name: x\nextends: large\ndatabase:\n  engine: sqlite\n")
    messages = problems_of(str(path))
    assert any(f"{path}:4: database.engine: sqlite needs a single server" in m
               for m in messages)


def test_a_two_member_patroni_cluster_is_refused_at_its_line(write_profile):
    path = write_profile("name: x\nextends: very-large\nhosts:\n  database_replica:\n"
                         "    count: 1\n")
    messages = problems_of(str(path))
    assert any(f"{path}:5: hosts.database_replica.count: 1 replica makes a 2-member Patroni "
               "cluster" in m and "set 2 or more" in m for m in messages), messages


def test_synchronous_replication_needs_a_replica(write_profile):
    path = write_profile("name: x\nextends: large\ndatabase:\n"
                         "  synchronous_replication: true\n")
    messages = problems_of(str(path))
    assert any(f"{path}:4: database.synchronous_replication: needs hosts.database_replica"
               in m for m in messages), messages


@pytest.mark.parametrize("role", ["redis_cache", "redis_broker"])
def test_a_two_host_sentinel_group_is_refused_at_its_line(write_profile, role):
    path = write_profile(f"name: x\nextends: very-large\nhosts:\n  {role}:\n    count: 2\n")
    messages = problems_of(str(path))
    assert any(f"{path}:5: hosts.{role}.count: 2 hosts run 2 Sentinels" in m
               and "Set 3 (Sentinel quorum 2) or 1" in m for m in messages), messages
    fine = write_profile(f"name: y\nextends: very-large\nhosts:\n  {role}:\n    count: 3\n",
                         "fine.yaml")
    load_profile_with_warnings(str(fine))  # 3 Sentinels: accepted


def test_sqlite_on_the_small_server_is_fine(write_profile):
    path = write_profile("name: x\nextends: small\ndatabase:\n  engine: sqlite\n")
    profile, _ = load_profile_with_warnings(str(path))
    assert profile.database.engine == "sqlite"


def test_colocating_on_a_multi_host_role_is_refused(write_profile):
    path = write_profile("name: x\nextends: large\nhosts:\n  celery_worker: {colocate: web}\n")
    messages = problems_of(str(path))
    assert any(f"{path}:4: hosts.celery_worker.colocate: 'web' has 3 hosts" in m
               for m in messages)


def test_students_outside_the_tier_warn(write_profile):
    path = write_profile("name: x\nextends: small\nstudents: 5000\n")
    _, warnings = load_profile_with_warnings(str(path))
    assert [str(w) for w in warnings] == [
        f"{path}:3: students: 5,000 is outside the small tier (200-800)"
    ]


def test_yaml_syntax_error_has_a_line(write_profile):
    path = write_profile("name: x\nhosts:\n  web: {count: 1\nstudents: 3\n")
    [message] = problems_of(str(path))
    assert message.startswith(f"{path}:")
    assert "invalid YAML" in message


def test_duplicate_keys_are_errors(write_profile):
    path = write_profile("name: x\nextends: small\nstudents: 300\nstudents: 400\n")
    [message] = problems_of(str(path))
    assert message == f"{path}:4: students: duplicate key"


def test_extends_cycle_is_reported(write_profile):
    write_profile("name: a\nextends: b.yaml\n", name="a.yaml")
    b = write_profile("name: b\nextends: a.yaml\n", name="b.yaml")
    [message] = problems_of(str(b))
    assert "extends cycle" in message


def test_unknown_builtin_name_suggests_one():
    [message] = problems_of("smal")
    assert "did you mean 'small'?" in message


def test_a_host_too_small_for_its_services_names_the_least_ram_that_works(write_profile):
    path = write_profile("name: x\nextends: very-large\nhosts:\n  database: {ram_gib: 0.5}\n")
    [message] = problems_of(str(path))
    assert message.startswith(f"{path}:4: hosts.database.ram_gib: 0.5 GiB is too little: "
                              "database would get 0 MiB, needs 256 MiB"), message
    assert message.endswith("at least 1 GiB works for this host"), message
    accepted = write_profile("name: x\nextends: very-large\nhosts:\n  database: {ram_gib: 1}\n")
    assert load_profile_with_warnings(str(accepted))[0].hosts.database.ram_gib == 1


def test_the_least_ram_of_a_shared_host_covers_every_service_on_it():
    from ssas_deploy.profiles.models import Role
    from ssas_deploy.sizing.minimums import MIN_SHARE, least_ram_gib, short_services
    from ssas_deploy.topology import build_topology

    profile, _ = load_profile_with_warnings("small")
    [host] = [h for h in build_topology(profile).hosts if h.group is Role.web]
    least = least_ram_gib(host.roles)
    assert short_services(host.roles, least) == []
    short = short_services(host.roles, least - 0.5)
    assert short and all(share < MIN_SHARE[role].kb for role, share, _ in short)


def test_a_database_host_must_hold_its_connections_and_names_the_ram_or_pgbouncer(
        write_profile):
    """Many app hosts without a pooler: each connection is a backend PostgreSQL must hold."""
    crowd = ("name: x\nextends: large\nhosts:\n"
             "  web: {count: 64, cpu_cores: 256, ram_gib: 4096, disk_gib: 5, storage: ssd}\n")
    [message] = problems_of(str(write_profile(crowd)))
    match = re.search(r"hosts\.database\.ram_gib: 16 GiB is too little: database would get "
                      r"14\.4 GiB, needs .* \(PostgreSQL: (\d+) connections x 2\.55 MiB each"
                      r".*at least (\d+) GiB works for this host \(or database\.pooler: "
                      r"pgbouncer", message)
    assert match, message
    least = int(match.group(2))
    assert int(match.group(1)) * 2608 * 4 / 3 > 14.4 * 1024 * 1024  # the reason holds
    at_least = crowd + f"  database: {{ram_gib: {least}}}\n"
    assert load_profile_with_warnings(str(write_profile(at_least)))[0]
    below = crowd + f"  database: {{ram_gib: {least - 0.5}}}\n"
    assert problems_of(str(write_profile(below)))
    pooled = crowd + "database: {pooler: pgbouncer}\n"
    assert load_profile_with_warnings(str(write_profile(pooled)))[0]


@pytest.mark.parametrize("name", ["ok.example; location / { return 200 pwned; }",
                                  "ok.example\nlisten 8080", "not a hostname!", "ssas..example",
                                  "-bad.example", "x/y", "10.0.1.300", "\ufeffssas.example"])
def test_server_name_is_a_host_name_or_ipv4_address(write_profile, name):
    """It goes unquoted into nginx's server_name and the certificate's names."""
    path = write_profile("name: bad\nextends: small\nsite:\n  server_name: " + json.dumps(name)
                         + "\n")
    with pytest.raises(InvalidInputError) as caught:
        load_profile_with_warnings(str(path))
    assert f"{path}:4: site.server_name" in str(caught.value)
    assert "is not a host name" in str(caught.value)


@pytest.mark.parametrize("name", ["ssas.stmarys.example", "192.168.1.20", "ssas"])
def test_host_names_and_ipv4_addresses_are_accepted_as_server_name(write_profile, name):
    path = write_profile(f"name: ok\nextends: small\nsite:\n  server_name: {name}\n")
    profile, _ = load_profile_with_warnings(str(path))
    assert profile.site.server_name == name
