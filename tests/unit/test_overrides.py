"""A profile's `overrides:` set derived values by their explained names, checked and shown."""

import json

import jsonschema
import pytest
from typer.testing import CliRunner

from ssas_deploy.cli.app import app
from ssas_deploy.context.build import build
from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.loader import builtin_profile_names, load_profile_with_warnings
from ssas_deploy.sizing.overridable import OVERRIDABLE
from ssas_deploy.sizing.plan import size_deployment
from ssas_deploy.topology import build_topology

from ..conftest import REPO

NOT_OVERRIDABLE = {"nginx.weights"}  # a list of backends, not one value
# A database host big enough for the settings PGTune adds on 16+ and 32+ cores.
BIG_DATABASE = ("name: big\nextends: very-large\nhosts:\n  database: {count: 1, cpu_cores: 32, "
                "ram_gib: 256, disk_gib: 2000, storage: ssd}\n")


def explained_names(profile) -> dict[str, object]:
    """Every "section.setting" derived on some host of `profile`, with one of its values."""
    sizing = size_deployment(profile, build_topology(profile))
    return {f"{section}.{name}": d.value
            for host in sizing.hosts.values()
            for section, settings in host.explained().items()
            for name, d in settings.items()}


def all_derived(write_profile) -> dict[str, object]:
    names: dict[str, object] = {}
    for ref in [*builtin_profile_names(), str(write_profile(BIG_DATABASE, "big.yaml"))]:
        names.update(explained_names(load_profile_with_warnings(ref)[0]))
    return names


def problems_of(path) -> list[str]:
    with pytest.raises(InvalidInputError) as caught:
        load_profile_with_warnings(str(path))
    return [str(p) for p in caught.value.problems]


def explain_output(path) -> str:
    result = CliRunner().invoke(app, ["plan", "-p", str(path), "--explain"])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_derived_value_is_overridable_with_a_value_of_its_own_kind(write_profile):
    derived = all_derived(write_profile)
    for name, value in derived.items():
        if name in NOT_OVERRIDABLE:
            continue
        assert name in OVERRIDABLE, name
        assert OVERRIDABLE[name].check(value) == value, name


def test_every_overridable_name_is_derived_somewhere(write_profile):
    assert set(OVERRIDABLE) <= set(all_derived(write_profile))


def test_an_override_reaches_the_host_variables_and_explain_shows_what_it_replaced(
        write_profile):
    path = write_profile("name: s\nextends: large\noverrides:\n  postgresql.work_mem: 16MB\n",
                         "my-school.yaml")
    profile, _ = load_profile_with_warnings(str(path))
    assert build(profile).host_vars["db-1"]["postgresql_settings"]["work_mem"] == "16MB"
    out = " ".join(explain_output(path).split())  # rich may wrap long lines
    assert "work_mem = 16MB (overridden in my-school.yaml:4; derived: 25MB = max(4 MB" in out


def test_values_derived_from_an_override_follow_it(write_profile):
    base, _ = load_profile_with_warnings("large")
    before = size_deployment(base, build_topology(base)).hosts["db-1"].postgresql
    path = write_profile("name: s\nextends: large\noverrides:\n  gunicorn.workers: 2\n"
                         "  celery.ml-heavy.concurrency: 1\n")
    fewer, _ = load_profile_with_warnings(str(path))
    after = size_deployment(fewer, build_topology(fewer)).hosts["db-1"].postgresql
    # 3 web hosts x 2 workers x 4 threads instead of 9 workers; one ml-heavy child less on
    # worker-1 and on each of the 2 worker hosts the tier may still add.
    assert after.value("max_connections") == before.value("max_connections") - 3 * 7 * 4 - 3
    pinned = write_profile("name: s\nextends: large\noverrides:\n"
                           "  postgresql.max_connections: 400\n", "pinned.yaml")
    many, _ = load_profile_with_warnings(str(pinned))
    pg = size_deployment(many, build_topology(many)).hosts["db-1"].postgresql
    assert pg.value("max_connections") == 400
    assert "max_connections 400" in pg.settings["work_mem"].formula
    assert (before.value("work_mem"), pg.value("work_mem")) == ("25MB", "9MB")


def test_a_pinned_max_requests_keeps_its_own_jitter(write_profile):
    path = write_profile("name: s\nextends: very-large\noverrides:\n"
                         "  gunicorn.max_requests: 500\n")
    profile, _ = load_profile_with_warnings(str(path))
    web = size_deployment(profile, build_topology(profile)).hosts["web-1"].gunicorn
    assert (web.max_requests.value, web.max_requests_jitter.value) == (500, 50)
    both = write_profile("name: s\nextends: very-large\noverrides:\n"
                         "  gunicorn.max_requests: 500\n  gunicorn.max_requests_jitter: 7\n",
                         "both.yaml")
    profile, _ = load_profile_with_warnings(str(both))
    web = size_deployment(profile, build_topology(profile)).hosts["web-1"].gunicorn
    assert (web.max_requests.value, web.max_requests_jitter.value) == (500, 7)


def test_a_group_override_wins_over_the_plain_one_on_that_group(write_profile):
    path = write_profile("name: s\nextends: very-large\noverrides:\n"
                         "  postgresql.work_mem: 16MB\n"
                         "  database_replica/postgresql.work_mem: 8MB\n")
    profile, _ = load_profile_with_warnings(str(path))
    settings = {name: hv["postgresql_settings"]["work_mem"]
                for name, hv in build(profile).host_vars.items() if "postgresql_settings" in hv}
    replicas = {n for n in settings if n.startswith("db-replica")}
    assert replicas and all(settings[n] == "8MB" for n in replicas)
    assert all(v == "16MB" for n, v in settings.items() if n not in replicas)


def test_yaml_booleans_stand_for_on_and_off(write_profile):
    path = write_profile("name: s\nextends: large\noverrides:\n  postgresql.jit: on\n"
                         "  redis_broker.appendonly: no\n")
    profile, _ = load_profile_with_warnings(str(path))
    host_vars = build(profile).host_vars
    assert host_vars["db-1"]["postgresql_settings"]["jit"] == "on"
    broker = [i for i in host_vars["cache-1"]["redis_instances"] if i["name"] == "broker"]
    assert broker[0]["appendonly"] == "no"


@pytest.mark.parametrize("line, message", [
    ("postgresql.work_mme: 16MB", "no derived value is named 'postgresql.work_mme' "
                                  "(did you mean 'postgresql.work_mem'?)"),
    ("postgresql.work_mem: 16 megs", "'16 megs' is not a PostgreSQL size from 64kB to "
                                     "2147483647kB: a whole number and kB, MB, GB or TB, no "
                                     "space (e.g. 16MB, 512kB, 2GB)"),
    ("postgresql.work_mem: 16", "16 is not a PostgreSQL size"),
    ("gunicorn.workers: 2.5", "2.5 is not a whole number >= 1"),
    ("gunicorn.workers: true", "true is not a whole number >= 1"),
    ("webb/gunicorn.workers: 2", "'webb' is not a host group (did you mean 'web'?)"),
    ("redis_broker/redis_broker.maxmemory: 1gb",
     "hosts.redis_broker runs on the host(s) of redis_cache: use redis_cache/ for them"),
    ("postgresql.autovacuum_max_workers: 4", "no host of this profile derives "
                                             "postgresql.autovacuum_max_workers"),
    ("postgresql.max_connections: 5000", "hosts.database.ram_gib: 16 GiB is too little"),
])
def test_a_refused_override_is_named_at_its_line(write_profile, line, message):
    path = write_profile(f"name: s\nextends: large\n\noverrides:\n  {line}\n")
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert message in problems[0]
    if "ram_gib" not in message:
        assert problems[0].startswith(f"{path}:5: overrides.")


def test_a_replica_is_not_set_below_its_primary(write_profile):
    path = write_profile("name: s\nextends: very-large\noverrides:\n"
                         "  database_replica/postgresql.max_connections: 50\n")
    (problem,) = problems_of(path)
    assert f"{path}:4:" in problem
    assert "below the primary's" in problem


def test_the_source_is_the_file_that_wrote_the_override(write_profile):
    base = write_profile("name: b\nextends: large\noverrides:\n  gunicorn.workers: 3\n",
                         "base.yaml")
    child = write_profile(f"name: c\nextends: {base}\noverrides:\n  gunicorn.threads: 2\n",
                          "child.yaml")
    profile, _ = load_profile_with_warnings(str(child))
    assert profile.override_sources() == {"gunicorn.workers": "base.yaml:4",
                                          "gunicorn.threads": "child.yaml:4"}


def test_plan_json_keeps_the_derived_value_beside_the_override(write_profile):
    path = write_profile("name: s\nextends: large\noverrides:\n  nginx.api_rate: 50r/s\n")
    result = CliRunner().invoke(app, ["plan", "-p", str(path), "--json"])
    assert result.exit_code == 0, result.output
    hosts = {h["name"]: h for h in json.loads(result.output)["hosts"]}
    rate = hosts["lb-1"]["settings"]["nginx"]["api_rate"]
    assert rate["value"] == "50r/s"
    assert rate["derived"]["value"] == "1000r/s"


def test_the_schema_knows_every_name_and_kind():
    schema = json.loads((REPO / "sizing_profiles/profile.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema["properties"]["overrides"])
    assert validator.is_valid({"postgresql.work_mem": "16MB",
                               "database_replica/postgresql.work_mem": "8MB",
                               "celery.ml-heavy.concurrency": 3, "postgresql.jit": False})
    for refused in ({"postgresql.work_mme": "16MB"}, {"postgresql.work_mem": "16 megs"},
                    {"webb/gunicorn.workers": 2}, {"gunicorn.workers": 2.5}):
        assert not validator.is_valid(refused), refused


@pytest.mark.parametrize(("setting", "value", "accepted"), [
    ("maintenance_work_mem", "63kB", False), ("maintenance_work_mem", "1MB", True),
    ("work_mem", "99999999TB", False), ("work_mem", "64kB", True),
    ("effective_cache_size", "1kB", False), ("shared_buffers", "64kB", False),
    ("min_wal_size", "16MB", False), ("max_connections", 3, False),
])
def test_postgresql_values_outside_the_servers_own_ranges_are_refused(write_profile, setting,
                                                                       value, accepted):
    """PostgreSQL 15 refuses to start with these (checked against its guc.c ranges)."""
    path = write_profile(f"extends: small\nname: t\noverrides:\n  postgresql.{setting}: {value}\n")
    if accepted:
        load_profile_with_warnings(str(path))
    else:
        problems = problems_of(path)
        assert len(problems) == 1 and f"{path}:4" in problems[0], problems


@pytest.mark.parametrize(("override", "needed"), [
    ("postgresql.max_connections: 10", "at least 44"),
    ("pgbouncer.max_client_conn: 10", "at least 373"),
])
def test_a_connection_limit_below_what_connects_is_refused(write_profile, override, needed):
    path = write_profile(f"extends: very-large\nname: t\noverrides:\n  {override}\n")
    problems = problems_of(path)
    assert len(problems) == 1 and needed in problems[0] and f"{path}:4" in problems[0], problems


def test_a_connection_limit_at_what_connects_is_accepted(write_profile):
    path = write_profile("extends: very-large\nname: t\noverrides:\n"
                         "  postgresql.max_connections: 44\n  pgbouncer.max_client_conn: 373\n")
    load_profile_with_warnings(str(path))


@pytest.mark.parametrize(("override", "needs"), [
    ("postgresql.shared_buffers: 500GB", "shared_buffers 500GB needs 500 GiB"),
    ("redis_cache.maxmemory: 900gb", "maxmemory 900gb needs 900 GiB"),
    ("gunicorn.workers: 200", "200 gunicorn workers x 300 MiB needs 58.6 GiB"),
    ("celery.ml-heavy.concurrency: 300", "Celery children x 400 MiB"),
])
def test_an_override_that_does_not_fit_in_the_hosts_ram_is_refused(write_profile, override,
                                                                   needs):
    path = write_profile(f"extends: very-large\nname: t\noverrides:\n  {override}\n")
    problems = problems_of(path)
    assert len(problems) == 1 and needs in problems[0] and f"{path}:4" in problems[0], problems
    assert "more than the" in problems[0] and "this service may use on" in problems[0]


def test_overrides_within_the_hosts_ram_are_accepted(write_profile):
    path = write_profile("extends: very-large\nname: t\noverrides:\n"
                         "  postgresql.shared_buffers: 8GB\n  redis_cache.maxmemory: 4gb\n"
                         "  gunicorn.workers: 8\n  celery.ml-heavy.concurrency: 2\n")
    load_profile_with_warnings(str(path))


def test_a_ram_shortfall_caused_by_overrides_names_them(write_profile):
    """The RAM check's line is the built-in profile's host group; the message also names
    the user's overrides that raised the connections."""
    path = write_profile("extends: small\nname: t\noverrides:\n  gunicorn.threads: 300\n")
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert "hosts.web.ram_gib" in problems[0]
    assert f"lower the overrides that raise its connections: gunicorn.threads ({path.name}:4)" \
        in problems[0]
