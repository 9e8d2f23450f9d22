"""Every database link between hosts requires TLS (issue 14, item 4).

Each tier is rendered on private addresses, as a school's inventory gives them, and with the
placeholder host names `render` uses without one. Then: every pg_hba rule for a client that
is not this host is `hostssl`; every PgBouncer that listens off its own host requires TLS of
its clients; every Django DATABASES entry that points at another host asks for
sslmode=require (or stronger). Redis links between hosts are not checked here: they are
plain TCP with ACL passwords (templates/redis), a known gap.
"""

import ast
import configparser
from dataclasses import replace

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment
from tests.private_inventory import private_addresses

# medium: the database shares the web host (only the backup host is apart), so it has no
# database link between hosts; it is here so that a change which moves one off-host is seen.
TIERS = ["medium", "large", "very-large"]
LOOPBACK = {"127.0.0.1", "127.0.0.1/32", "::1", "::1/128", "localhost", "samehost"}
TLS_MODES = {"require", "verify-ca", "verify-full"}


@pytest.fixture(scope="module", params=[(t, a) for t in TIERS for a in ("names", "private")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def files(request):
    tier, addressing = request.param
    profile = load_profile(tier)
    placements = private_addresses(profile) if addressing == "private" else None
    return tier, render_deployment(build(profile, placements))


def of(files, suffix):
    return [f for f in files if f.spec.dest.endswith(suffix)]


def hba_problems(item) -> list[str]:
    """Rules that let a client on another host in without TLS."""
    bad = []
    for line in item.content.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#") or fields[0] == "local":
            continue
        kind, address = fields[0], fields[3]
        if address not in LOOPBACK and kind != "hostssl":
            bad.append(f"{item.host}: {line.strip()}")
    return bad


def hba_remote_rules(item) -> int:
    return sum(1 for line in item.content.splitlines()
               if (f := line.split()) and f[0].startswith("host") and f[3] not in LOOPBACK)


def pgbouncer_problems(item) -> tuple[bool, list[str]]:
    """(listens off-host, problems)."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(item.content)
    section = ini["pgbouncer"]
    listen = {a.strip() for a in section["listen_addr"].split(",")}
    remote = bool(listen - LOOPBACK)
    mode = section.get("client_tls_sslmode", "disable")
    if remote and mode not in TLS_MODES:
        return remote, [f"{item.host}: listens on {sorted(listen)} with "
                        f"client_tls_sslmode = {mode}"]
    return remote, []


def rendered_databases(item) -> dict:
    """The DATABASES literal of a rendered ssas_settings.py."""
    for node in ast.parse(item.content).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "DATABASES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{item.host}: no DATABASES in {item.spec.dest}")


def django_problems(item) -> tuple[int, list[str]]:
    """(entries pointing at another host, problems)."""
    remote, bad = 0, []
    for alias, settings in rendered_databases(item).items():
        if settings["ENGINE"].endswith("sqlite3") or settings["HOST"] in LOOPBACK:
            continue
        remote += 1
        mode = settings.get("OPTIONS", {}).get("sslmode")
        if mode not in TLS_MODES:
            bad.append(f"{item.host}: DATABASES[{alias!r}] -> {settings['HOST']} "
                       f"sslmode={mode}")
    return remote, bad


def test_every_pg_hba_rule_for_another_host_is_hostssl(files):
    tier, rendered = files
    hbas = of(rendered, "pg_hba.conf")
    assert hbas
    assert [p for item in hbas for p in hba_problems(item)] == []
    if tier == "very-large":  # the replicas stream from each other: the check saw them
        assert all(hba_remote_rules(h) for h in hbas if h.host.startswith("db-replica"))


def test_every_pgbouncer_listening_off_host_requires_tls(files):
    tier, rendered = files
    results = [pgbouncer_problems(item) for item in of(rendered, "pgbouncer.ini")]
    assert [p for _, problems in results for p in problems] == []
    if tier == "very-large":  # every database host pools for the web and Celery hosts
        assert results and all(remote for remote, _ in results)


def test_every_django_database_on_another_host_requires_tls(files):
    tier, rendered = files
    settings = of(rendered, "ssas_settings.py")
    assert settings
    results = [django_problems(item) for item in settings]
    assert [p for _, problems in results for p in problems] == []
    remote = sum(count for count, _ in results)
    if tier == "medium":
        assert remote == 0
    else:  # large: the web and Celery hosts reach db-1; very-large: every database host
        assert remote >= len(settings)


def test_the_checks_see_a_link_without_tls():
    """The checkers themselves: a `host` rule, a PgBouncer that only prefers TLS and a
    DATABASES entry that only prefers it are each reported."""
    profile = load_profile("large")
    large = render_deployment(build(profile, private_addresses(profile)))
    [hba] = of(large, "pg_hba.conf")
    weakened = replace(hba, content=hba.content.replace("hostssl", "host"))
    assert hba_problems(weakened)
    settings = of(large, "ssas_settings.py")[0]
    weakened = replace(settings, content=settings.content.replace(
        "'sslmode': 'require'", "'sslmode': 'prefer'"))
    assert django_problems(weakened)[1]
    profile = load_profile("very-large")
    ini = of(render_deployment(build(profile)), "pgbouncer.ini")[0]
    weakened = replace(ini, content=ini.content.replace(
        "client_tls_sslmode = require", "client_tls_sslmode = prefer"))
    assert pgbouncer_problems(weakened)[1]
