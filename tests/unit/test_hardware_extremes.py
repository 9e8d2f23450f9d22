"""Every value derived from hardware the schema allows is one its daemon accepts, or the
profile is refused naming the least RAM that works, and that least then works.

A seeded random sample (tests/hardware_samples.py) of the schema's ranges (cores 1..256,
RAM 0.5..4096 GiB, disk 5..100000 GiB, ssd/hdd), of the counts the profile accepts (web
1..64 behind a balancer, replicas 2..64, Redis groups 1 or 3, shards and Celery hosts 1..64)
and of the colocations it allows, over every built-in tier's roles; plus the corners: every
dedicated host at the least and at the most the schema allows. A refusal must be only RAM
floors, each naming its minimum; the profile with those minima must be accepted. Each
accepted case is built and rendered through the same code as `render`, and its values
checked against the daemons' own limits, written out below with their sources. The shapes
the profile refuses (a replica alone, two Redis hosts, a role shared with a group of
several, ...) are checked on their own for a clear message. The daemons themselves judge
the corners and a few samples in tests/rendering/test_validators.py.
"""

import re

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.loader import load_profile_with_warnings
from ssas_deploy.profiles.models import Role
from ssas_deploy.rendering import render_deployment
from ssas_deploy.sizing.derived import GIB
from ssas_deploy.sizing.nginx import NR_OPEN
from ssas_deploy.topology import build_topology
from tests.hardware_samples import NO_MINIMUM, TIERS, accepted_profile, corner, samples

SAMPLES_PER_TIER = 16
SEED = 14

# PostgreSQL 15 (src/backend/utils/misc/guc.c ranges; MAX_BACKENDS 0x3FFFF in
# postmaster/postmaster.h; MAX_KILOBYTES = INT_MAX on 64-bit Linux). Sizes in kB.
INT_MAX = 2**31 - 1
MAX_BACKENDS = 0x3FFFF
PG_KB_RANGES = {
    "shared_buffers": (128, (INT_MAX // 2) * 8),  # 16 .. INT_MAX/2 pages of 8 kB
    "effective_cache_size": (8, INT_MAX * 8),
    "maintenance_work_mem": (1024, INT_MAX),
    "autovacuum_work_mem": (1024, INT_MAX),
    "work_mem": (64, INT_MAX),
    "wal_buffers": (32, INT_MAX),  # under 4 pages PostgreSQL raises it to 32 kB itself
    "min_wal_size": (2 * 16 * 1024, INT_MAX),  # at least 2 WAL segments of 16 MB
    "max_wal_size": (2 * 16 * 1024, INT_MAX),
}
PG_INT_RANGES = {
    "max_connections": (1, MAX_BACKENDS),
    "max_worker_processes": (0, MAX_BACKENDS),
    "max_parallel_workers": (0, 1024),
    "max_parallel_workers_per_gather": (0, 1024),
    "max_parallel_maintenance_workers": (0, 1024),
    "autovacuum_max_workers": (1, MAX_BACKENDS),
    "effective_io_concurrency": (0, 1000),
    "default_statistics_target": (1, 10000),
}
PG_ENUMS = {"huge_pages": {"on", "off", "try"}, "jit": {"on", "off"},
            "wal_compression": {"on", "off", "pglz", "lz4", "zstd"}}
PG_DEFAULT_AUTOVACUUM_WORKERS = 3
# Redis: maxmemory is a memory size ("<n>mb"); 0 would mean no limit at all.
REDIS_MIN_MB = 1


def pg_kb(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(kB|MB|GB)", text).groups()
    return int(number) * {"kB": 1, "MB": 1024, "GB": 1024 * 1024}[unit]


def violations(deployment) -> list[str]:
    """Every derived value outside its daemon's limits, as 'host: setting = value (limit)'."""
    bad = []
    for name, sizing in deployment.sizing.hosts.items():
        def out(setting, value, limit, name=name):
            bad.append(f"{name}: {setting} = {value} ({limit})")

        if sizing.postgresql:
            settings = {k: d.value for k, d in sizing.postgresql.settings.items()}
            for key, (low, high) in PG_KB_RANGES.items():
                if key in settings and not low <= pg_kb(settings[key]) <= high:
                    out(key, settings[key], f"{low}..{high} kB")
            for key, (low, high) in PG_INT_RANGES.items():
                if key in settings and not low <= settings[key] <= high:
                    out(key, settings[key], f"{low}..{high}")
            for key, allowed in PG_ENUMS.items():
                if settings[key] not in allowed:
                    out(key, settings[key], sorted(allowed))
            if settings["random_page_cost"] < 0:
                out("random_page_cost", settings["random_page_cost"], ">= 0")
            senders = deployment.host_vars[name]["postgresql_wal_senders"]
            backends = (settings["max_connections"] + 1 + settings["max_worker_processes"]
                        + settings.get("autovacuum_max_workers", PG_DEFAULT_AUTOVACUUM_WORKERS)
                        + senders)
            if backends > MAX_BACKENDS:
                out("max_connections + workers + wal senders", backends, MAX_BACKENDS)
        if sizing.pgbouncer:
            pool = sizing.pgbouncer.default_pool_size.value
            if pool < 1 or sizing.pgbouncer.max_client_conn.value < pool:
                out("pgbouncer pool/max_client_conn", pool, "pool >= 1, clients >= pool")
        for kind, redis in (sizing.redis or {}).items():
            mb = int(redis.maxmemory.value.removesuffix("mb"))
            share_mb = sizing.shares[Role.redis_cache if kind == "cache"
                                     else Role.redis_broker].ram_kb.value // 1024
            if not REDIS_MIN_MB <= mb <= share_mb:
                out(f"redis {kind} maxmemory", mb, f"{REDIS_MIN_MB}..{share_mb} MB (its share)")
        if sizing.nginx:
            conns = sizing.nginx.worker_connections.value
            if conns < 16 or sizing.nginx.worker_rlimit_nofile.value > NR_OPEN:
                out("nginx worker_connections", conns, f"16..{NR_OPEN // 2}")
            if sizing.nginx.worker_processes.value < 1:
                out("nginx worker_processes", sizing.nginx.worker_processes.value, ">= 1")
        if sizing.gunicorn and min(sizing.gunicorn.workers.value,
                                   sizing.gunicorn.threads.value) < 1:
            out("gunicorn workers x threads", sizing.gunicorn.workers.value, ">= 1")
        for group in sizing.celery_groups or []:
            if group.concurrency.value < 1:
                out(f"celery {group.name} concurrency", group.concurrency.value, ">= 1")
        ram_kb = int(sizing.host.hardware.ram_gib * GIB)
        if sum(s.ram_kb.value for s in sizing.shares.values()) > ram_kb:
            out("shares", "sum", f"<= {ram_kb} kB of RAM")
    return bad


ALL_CASES = [corner(base, most) for base in TIERS for most in (False, True)] + samples(
    SEED, SAMPLES_PER_TIER)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{label: (profile or None, {role: named minimum} or the refusal's text)}."""
    directory = tmp_path_factory.mktemp("hardware")
    out = {}
    for sample in ALL_CASES:
        try:
            out[sample.label] = accepted_profile(sample, directory)
        except InvalidInputError as refused:
            out[sample.label] = (None, [str(p) for p in refused.problems])
    return out


@pytest.mark.parametrize("sample", ALL_CASES, ids=[c.label for c in ALL_CASES])
def test_accepted_hardware_derives_only_values_the_daemons_accept(sample, outcomes):
    profile, raised = outcomes[sample.label]
    if profile is None:
        # Only RAM floors refuse these shapes, and every floor names a minimum, except where
        # the connections need more than the schema's most RAM.
        assert all(NO_MINIMUM in m for m in raised), raised
        pytest.skip(f"refused, no hardware works: {raised[0][:120]}")
    deployment = build(profile)
    assert violations(deployment) == []
    assert render_deployment(deployment)


def test_the_sample_reaches_both_sides_of_the_floors_and_varies_the_layout(outcomes):
    """Worth its time only if it sees hardware accepted as given, hardware refused and then
    accepted at the named minimum, several web counts and colocations."""
    as_given = [label for label, (p, raised) in outcomes.items() if p and not raised]
    at_minimum = [label for label, (p, raised) in outcomes.items() if p and raised]
    assert len(as_given) >= 20 and len(at_minimum) >= 10, (as_given, at_minimum)
    web_counts = {s.hosts[Role.web].get("count") for s in ALL_CASES if Role.web in s.hosts}
    assert len(web_counts - {None}) >= 4, web_counts
    layouts = {tuple(sorted((r.value, str(v["colocate"])) for r, v in s.hosts.items()
                            if "colocate" in v)) for s in ALL_CASES}
    assert len(layouts) >= 20, layouts
    redis = {s.hosts[r].get("count") for s in ALL_CASES for r in (Role.redis_cache,
                                                                    Role.redis_broker)
             if r in s.hosts}
    assert {1, 3} <= redis


# Shapes the profile refuses whatever the hardware: (base, hosts, field, what the message
# says). Each is refused, naming its field and what to set instead.
HOST = "cpu_cores: 4, ram_gib: 16, disk_gib: 100, storage: ssd"
REFUSED_SHAPES = [
    ("very-large", f"database_replica: {{count: 1, {HOST}}}", "hosts.database_replica.count",
     "1 replica makes a 2-member Patroni cluster"),
    ("very-large", f"redis_cache: {{count: 2, {HOST}}}", "hosts.redis_cache.count",
     "Set 3 (Sentinel quorum 2) or 1"),
    ("very-large", f"redis_broker: {{count: 2, {HOST}}}", "hosts.redis_broker.count",
     "Set 3 (Sentinel quorum 2) or 1"),
    ("medium", f"web: {{count: 2, {HOST}}}", "hosts.load_balancer.colocate",
     "'web' has 2 hosts; a role can only share a single host"),
    ("large", "celery_worker: {colocate: backup}", "hosts.celery_worker.colocate",
     "the backup host keeps only backups"),
    ("large", f"web: {{count: 2, {HOST}}}\n  celery_worker: {{colocate: web}}",
     "hosts.celery_worker.colocate", "'web' has 2 hosts"),
    ("large", "redis_broker: {colocate: redis_broker}", "hosts.redis_broker.colocate",
     "cannot be colocated with itself"),
    ("large", "celery_worker: {colocate: redis_broker}", "hosts.celery_worker.colocate",
     "'redis_broker' is itself colocated; use 'redis_cache' instead"),
    ("small", f"celery_worker: {{count: 1, {HOST}}}", "cache",
     "a local cache needs a single server"),
]


@pytest.mark.parametrize(("base", "hosts", "field", "says"), REFUSED_SHAPES,
                         ids=[f"{b}:{f}" for b, _, f, _ in REFUSED_SHAPES])
def test_a_shape_the_profile_refuses_is_refused_with_a_clear_message(base, hosts, field,
                                                                     says, tmp_path):
    path = tmp_path / "profile.yaml"
    path.write_text(f"name: refused\nextends: {base}\nhosts:\n  {hosts}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as refused:
        load_profile_with_warnings(str(path))
    messages = [(p.field, p.message) for p in refused.value.problems]
    assert any(f == field and says in m for f, m in messages), messages


def test_a_named_minimum_is_checked_again(tmp_path):
    """The re-validation is real: a 0.5 GiB database host is refused naming a minimum, and
    that minimum is accepted."""
    sample = corner("large", most=False)
    with pytest.raises(InvalidInputError):
        load_profile_with_warnings(str(sample.write(tmp_path)))
    profile, raised = accepted_profile(sample, tmp_path)
    assert raised[Role.database] > 0.5
    assert profile.hosts.database.ram_gib == raised[Role.database]


def test_the_checker_sees_a_value_postgresql_refuses():
    """The checker itself: a shared_buffers of 0 kB (the issue's case) is a violation."""
    profile, _ = load_profile_with_warnings("small")
    deployment = build(profile)
    [db] = [s for s in deployment.sizing.hosts.values() if s.postgresql]
    settings = dict(db.postgresql.settings)
    settings["shared_buffers"] = type(settings["shared_buffers"])("0kB", "", "")
    object.__setattr__(db.postgresql, "settings", settings)
    assert any("shared_buffers = 0kB" in v for v in violations(deployment))
    assert build_topology(profile).hosts  # the profile itself was fine
