import re

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.jinja_filters import sha256_hex
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role
from ssas_deploy.rendering import MASK, render_deployment

TIERS = ["small", "medium", "large", "very-large"]


@pytest.fixture(scope="module", params=TIERS)
def rendered(request):
    deployment = build(load_profile(request.param))
    return deployment, render_deployment(deployment)


def contents(files, suffix):
    return [f.content for f in files if f.spec.dest.endswith(suffix)]


# Seed errata: none of the guide's config mistakes may appear in any output.
FORBIDDEN = [
    (r"MAX_CONNS", "#1 MAX_CONNS is no Django setting"),
    (r"'OPTIONS':\s*\{[^}]*CONN_(MAX_AGE|HEALTH_CHECKS)", "#1/#2 alias keys inside OPTIONS"),
    (r"cpu_count", "#3 cpu_count()"),
    (r"worker_connections = ", "#4 gunicorn worker_connections"),
    (r"preload_app = True", "#5 preload_app"),
    (r"log_statement = 'all'", "#8 log_statement all"),
    (r"X-XSS-Protection", "#9 X-XSS-Protection"),
    (r"PREFETCH_MULTIPLIER = 4", "#11 prefetch 4 with acks_late"),
    (r"Type=forking", "#13 forking celery multi"),
    (r"hash\(", "#14 Python hash() for sharding"),
    (r"[Cc]luster", "#17 Redis Cluster"),
]


def code_lines(text: str) -> str:
    """The file without its comments (which may name the mistakes they avoid)."""
    return "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith(("#", ";")))


def test_no_seed_errata_in_any_file(rendered):
    _, files = rendered
    for item in files:
        code = code_lines(item.content)
        for pattern, why in FORBIDDEN:
            if pattern == r"[Cc]luster" and "postgresql" in item.spec.template:
                continue  # PostgreSQL's own cluster_name, not Redis Cluster
            assert not re.search(pattern, code), f"{item.host}:{item.spec.dest}: {why}"


def test_cache_and_broker_are_separate_redis_servers(rendered):
    _, files = rendered
    confs = contents(files, "ssas-broker.conf") + contents(files, "ssas-cache.conf")
    for conf in confs:
        if "port 6380" in conf:
            assert "maxmemory-policy noeviction" in conf and "appendonly yes" in conf
        else:
            assert "maxmemory-policy allkeys-lru" in conf and "appendonly no" in conf


def test_celery_units_wait_past_the_hard_limit(rendered):
    _, files = rendered
    for item in files:
        if "ssas-celery-" in item.spec.dest and "beat" not in item.spec.dest:
            stop = int(re.search(r"TimeoutStopSec=(\d+)", item.content).group(1))
            queues = re.search(r"--queues (\S+)", item.content).group(1).split(",")
            limits = {"ml_heavy": 600, "ml_fast": 30, "reports": 300, "analytics": 1800,
                      "ml_training": 1800}
            assert stop > max(limits[q] for q in queues)


def test_beat_runs_on_exactly_one_host(rendered):
    _, files = rendered
    beats = [f for f in files if f.spec.dest.endswith("ssas-celery-beat.service")]
    assert len(beats) == 1


def test_secrets_are_masked_and_flagged(rendered):
    _, files = rendered
    secret_files = [f for f in files if f.spec.secret]
    assert secret_files
    for item in secret_files:
        # Redis ACL files hold SHA-256 hashes of the passwords (`#<hex>`), never the values.
        assert MASK in item.content or sha256_hex(MASK) in item.content, item.spec.dest
        assert item.spec.mode in ("0640", "0600")
    for item in files:
        assert item.spec.mode[-1] == "0" or not item.spec.secret


def test_only_the_load_balancer_opens_web_ports(rendered):
    deployment, files = rendered
    for item in files:
        if item.spec.dest != "/etc/nftables.conf":
            continue
        host = deployment.topology.by_name(item.host)
        opens_https = "tcp dport 443 accept" in item.content
        assert opens_https == host.has(Role.load_balancer)


def test_upstream_weights_follow_web_cores(rendered):
    deployment, files = rendered
    for conf in contents(files, "conf.d/ssas.conf"):
        weights = re.findall(r"weight=(\d+)", conf)
        web = deployment.topology.with_role(Role.web)
        assert weights == [str(h.hardware.cpu_cores) for h in web]
        assert "zone ssas_backend" in conf


def test_rendering_is_deterministic():
    first = render_deployment(build(load_profile("very-large")))
    second = render_deployment(build(load_profile("very-large")))
    assert [f.content for f in first] == [f.content for f in second]


def test_pyrepr_prints_subclasses_like_builtins():
    """Ansible hands filters dict/list/str subclasses; the bytes must not depend on that."""
    from ssas_deploy.jinja_filters import pyrepr

    class TaggedDict(dict):
        # Like Ansible's lazy containers: an own __repr__, so pprint no longer recognises it.
        def __repr__(self):
            return dict.__repr__(self)

    class TaggedStr(str):
        pass

    value = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "ssas_production",
                         "OPTIONS": {"sslmode": "require"}, "PORT": 5432}}
    tagged = TaggedDict({"default": TaggedDict({TaggedStr(k): v for k, v in
                                                value["default"].items()})})
    assert pyrepr(tagged) == pyrepr(value)
    assert "\n" in pyrepr(value)
