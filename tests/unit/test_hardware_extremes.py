"""Every value derived from hardware the schema allows is one its daemon accepts, or the
profile is refused.

A seeded random sample of the schema's ranges (cores 1..256, RAM 0.5..4096 GiB, disk
5..100000 GiB, ssd/hdd, counts 1..64) over every built-in tier's layout (so its colocated
roles share a host), plus the corners: every dedicated host at the least and at the most
the schema allows. Each accepted case is built through the same code as `render` and its
values checked against the daemons' own limits, written out below with their sources.
The daemons themselves judge the corners in tests/rendering/test_validators.py.
"""

import random
import re

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.loader import load_profile_with_warnings
from ssas_deploy.profiles.models import HostSpec, Role
from ssas_deploy.sizing.derived import GIB
from ssas_deploy.sizing.nginx import NR_OPEN
from ssas_deploy.topology import build_topology

TIERS = ["small", "medium", "large", "very-large"]
SAMPLES_PER_TIER = 12
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


def profile_text(base: str, specs: dict[Role, dict], name: str) -> str:
    lines = [f"name: {name}", f"extends: {base}", "hosts:"]
    for role, spec in specs.items():
        body = ", ".join(f"{k}: {v}" for k, v in spec.items())
        lines.append(f"  {role.value}: {{{body}}}")
    return "\n".join(lines) + "\n"


def dedicated_roles(base: str) -> dict[Role, HostSpec]:
    profile, _ = load_profile_with_warnings(base)
    return {r: s for r in Role if isinstance(s := profile.hosts.spec(r), HostSpec)}


def random_spec(rng: random.Random, role: Role, spec: HostSpec, colocated_on: set[Role]):
    ram = rng.choice([0.5, 1, 2, 4, 8, 16, 64, 256, 1024, 4096, rng.uniform(0.5, 4096)])
    out = {"cpu_cores": rng.choice([1, 2, 4, 16, 32, 256, rng.randint(1, 256)]),
           "ram_gib": round(ram * 2) / 2, "disk_gib": rng.choice([5, 100, 100_000]),
           "storage": rng.choice(["ssd", "hdd"])}
    # A role others share must stay a single host; several web hosts need the balancer.
    if role not in colocated_on and role is not Role.web:
        out["count"] = rng.choice([1, 2, 64])
    return out


def cases() -> list[tuple[str, str]]:
    """(label, profile YAML): corners first, then the seeded sample."""
    rng = random.Random(SEED)
    out = []
    for base in TIERS:
        specs = dedicated_roles(base)
        profile, _ = load_profile_with_warnings(base)
        colocated_on = {s.colocate for r in Role
                        if (s := profile.hosts.spec(r)) is not None and not isinstance(s, HostSpec)}
        least = {r: {"cpu_cores": 1, "ram_gib": 0.5, "disk_gib": 5, "storage": "hdd"}
                 for r in specs}
        most = {r: {"cpu_cores": 256, "ram_gib": 4096, "disk_gib": 100_000, "storage": "ssd",
                    **({"count": 64} if r not in colocated_on and (
                        r is not Role.web or Role.load_balancer in specs) else {})}
                for r in specs}
        out.append((f"{base}@least", profile_text(base, least, f"{base}-least")))
        out.append((f"{base}@most", profile_text(base, most, f"{base}-most")))
        for i in range(SAMPLES_PER_TIER):
            sample = {r: random_spec(rng, r, s, colocated_on) for r, s in specs.items()}
            out.append((f"{base}#{i}", profile_text(base, sample, f"{base}-{i}")))
    return out


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


ALL_CASES = cases()


@pytest.mark.parametrize(("label", "text"), ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_accepted_hardware_derives_only_values_the_daemons_accept(label, text, tmp_path):
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        profile, _ = load_profile_with_warnings(str(path))
    except InvalidInputError as refused:
        # A refusal names the field and, for RAM, the least that works.
        messages = [str(p) for p in refused.problems]
        assert all(re.search(r"hosts\.\w+\.ram_gib: .* at least [\d.]+ GiB works|"
                             r"not even the schema's", m) or "ram_gib" not in m
                   for m in messages), messages
        pytest.skip(f"refused: {messages[0][:120]}")
    deployment = build(profile)
    assert violations(deployment) == []


def test_the_sample_reaches_both_accepted_and_refused_hardware(tmp_path):
    """The sample is worth its time only if it sees both sides of the floors."""
    accepted = refused = 0
    for i, (_, text) in enumerate(ALL_CASES):
        path = tmp_path / f"{i}.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_profile_with_warnings(str(path))
            accepted += 1
        except InvalidInputError:
            refused += 1
    assert accepted >= 10 and refused >= 4, (accepted, refused)


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
