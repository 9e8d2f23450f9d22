"""Services heal themselves: every long-running unit restarts on a crash, within start limits.

The distribution's units (PostgreSQL, PgBouncer, nginx) get a drop-in; our own units
(templates/systemd/) carry the same settings themselves. Celery workers stop warmly.
"""

import re
from collections import defaultdict

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.files import RESTART_DROPIN
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment

TIERS = ["small", "medium", "large", "very-large"]
UNIT_DIR = "/etc/systemd/system/"
DROPIN = re.compile(r"^/etc/systemd/system/(?P<unit>[^/]+\.service)\.d/ssas-restart\.conf$")


@pytest.fixture(scope="module", params=TIERS)
def rendered(request):
    deployment = build(load_profile(request.param))
    return deployment, render_deployment(deployment)


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd's INI dialect: sections of keys that may repeat (Environment=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), line
            current = sections.setdefault(line[1:-1], defaultdict(list))
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"not a key=value line in a section: {line!r}"
        current[key.strip()].append(value.strip())
    return sections


def one(unit: dict, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= expected once, got {values}"
    return values[0]


def distribution_units(hv: dict) -> set[str]:
    """The distribution's service units a host runs, by the plays of playbooks/site.yml."""
    roles = set(hv["ssas_roles"])
    units = set()
    if roles & {"database", "database_replica", "database_shard"}:
        # On the HA cluster's members Debian's unit is masked: Patroni runs PostgreSQL, and
        # Debian's patroni and etcd units restart on a crash themselves (Restart=on-failure,
        # on-abnormal; the patroni role's molecule scenario kills both).
        if hv.get("postgresql_ha_manager") != "patroni":
            units.add(f"postgresql@{hv['postgresql_version']}-main.service")
        if hv["ssas_database_pooler"] == "pgbouncer":
            units.add("pgbouncer.service")
    if "load_balancer" in roles:
        units.add("nginx.service")
    return units


def restart_settings(unit: dict) -> tuple[str, str, str, str]:
    return (one(unit, "Service", "Restart"), one(unit, "Service", "RestartSec"),
            one(unit, "Unit", "StartLimitIntervalSec"), one(unit, "Unit", "StartLimitBurst"))


def test_every_distribution_service_gets_the_restart_dropin(rendered):
    deployment, files = rendered
    by_host = defaultdict(dict)
    for item in files:
        match = DROPIN.match(item.spec.dest)
        if match:
            by_host[item.host][match["unit"]] = item
    for host, hv in deployment.host_vars.items():
        assert set(by_host[host]) == distribution_units(hv), host
        for unit, item in by_host[host].items():
            spec = item.spec
            assert spec.template == RESTART_DROPIN
            assert (spec.owner, spec.group, spec.mode) == ("root", "root", "0644")
            # Restart= applies after a daemon-reload; the running service is left alone.
            assert (spec.service, spec.action) == (unit.removesuffix(".service"), "daemon-reload")
            assert not spec.secret
    # Every tier runs PostgreSQL and nginx somewhere.
    all_units = {u for units in by_host.values() for u in units}
    assert {"postgresql@15-main.service", "nginx.service"} <= all_units


def test_very_large_pools_with_pgbouncer_that_restarts():
    deployment = build(load_profile("very-large"))
    files = render_deployment(deployment)
    written = {(f.host, f.spec.dest) for f in files}
    pooled = [host for host, hv in deployment.host_vars.items() if "pgbouncer_port" in hv]
    assert len(pooled) == 7
    for host in pooled:
        assert (host, f"{UNIT_DIR}pgbouncer.service.d/ssas-restart.conf") in written


def test_dropin_restarts_on_failure_within_start_limits(rendered):
    _, files = rendered
    dropins = [f for f in files if DROPIN.match(f.spec.dest)]
    assert dropins
    for item in dropins:
        unit = parse_unit(item.content)
        assert set(unit) == {"Unit", "Service"}, item.spec.dest
        # Nothing else: the distribution's unit keeps everything it says itself.
        assert set(unit["Unit"]) == {"StartLimitIntervalSec", "StartLimitBurst"}
        assert set(unit["Service"]) == {"Restart", "RestartSec"}
        check_limits(restart_settings(unit), f"{item.host}:{item.spec.dest}")


def check_limits(settings, where):
    restart, restart_sec, interval, burst = settings
    assert restart == "on-failure", where
    restart_sec, interval, burst = int(restart_sec), int(interval), int(burst)
    assert 1 <= restart_sec <= 5, f"{where}: back within seconds, not hammering"
    # A crash loop must be able to hit the limit: burst restarts take at least
    # burst * RestartSec, which has to fit into the interval.
    assert burst * restart_sec < interval, where
    assert burst >= 3, where


def is_own_unit(dest: str) -> bool:
    """A unit file of ours, not a drop-in."""
    return dest.startswith(UNIT_DIR) and dest.endswith(".service") and dest.count("/") == 4


def own_long_running_units(files):
    for item in files:
        if is_own_unit(item.spec.dest):
            unit = parse_unit(item.content)
            if unit["Service"].get("Type", ["simple"]) != ["oneshot"]:
                yield item, unit


def test_every_unit_we_write_restarts_within_the_same_limits(rendered):
    _, files = rendered
    dropin = next(parse_unit(f.content) for f in files if DROPIN.match(f.spec.dest))
    units = list(own_long_running_units(files))
    assert any(i.spec.template == "systemd/ssas-redis.service.j2" for i, _ in units)
    assert any(i.spec.template == "systemd/ssas-celery-worker.service.j2" for i, _ in units)
    for item, unit in units:
        where = f"{item.host}:{item.spec.dest}"
        check_limits(restart_settings(unit), where)
        assert restart_settings(unit) == restart_settings(dropin), where


def test_oneshot_units_are_only_the_backups(rendered):
    """Units left out of the restart check above are short jobs started by a timer; a failed
    backup is retried a bounded number of times (the backup host may be briefly down)."""
    _, files = rendered
    oneshots = []
    for item in files:
        unit = parse_unit(item.content) if is_own_unit(item.spec.dest) else {}
        if unit and unit["Service"].get("Type") == ["oneshot"]:
            oneshots.append(item.spec.dest)
            assert item.spec.template in ("backup/ssas-pgbackrest.service.j2",
                                          "backup/ssas-restic-backup.service.j2")
            assert unit["Service"]["Restart"] == ["on-failure"]
            assert int(unit["Unit"]["StartLimitBurst"][0]) <= 5
    assert f"{UNIT_DIR}ssas-pgbackrest-full-ssas.service" in oneshots
    assert f"{UNIT_DIR}ssas-restic-backup.service" in oneshots


def test_celery_workers_stop_warmly(rendered):
    """SIGTERM to the main process only: it stops taking tasks and waits for running ones;
    the default KillMode=control-group would also kill the pool processes and their tasks."""
    _, files = rendered
    workers = [f for f in files if f.spec.template == "systemd/ssas-celery-worker.service.j2"]
    assert workers
    for item in workers:
        unit = parse_unit(item.content)
        assert one(unit, "Service", "KillMode") == "mixed", item.spec.dest
        assert one(unit, "Service", "KillSignal") == "SIGTERM", item.spec.dest
        timeout = int(one(unit, "Service", "TimeoutStopSec"))
        assert timeout == item.spec.extra_vars["celery_group"]["stop_timeout"]


def test_gunicorn_stops_gracefully_too(rendered):
    _, files = rendered
    for item in files:
        if item.spec.template == "systemd/ssas-gunicorn.service.j2":
            assert one(parse_unit(item.content), "Service", "KillMode") == "mixed"
