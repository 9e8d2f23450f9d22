"""Services come back by themselves: `kill -9` of PostgreSQL and of each Redis on the large
sandbox, then the app answers again without anyone restarting it."""

import time

import pytest

from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import connect, run

from .site_client import Site

RECOVERY_GOAL_S = 15.0

# Kills the unit's main process, then waits (up to 30 s) for systemd to have it active
# again under a new PID; prints the seconds it took.
KILL_AND_TIME = r"""
unit={unit}
old=$(systemctl show -P MainPID "$unit")
[ "$old" -gt 0 ] || {{ echo "no main process"; exit 2; }}
start=$(date +%s%N)
kill -9 "$old"
for _ in $(seq 1 300); do
  pid=$(systemctl show -P MainPID "$unit")
  if [ "$(systemctl is-active "$unit")" = active ] && [ "$pid" != "$old" ] && [ "$pid" != 0 ]; then
    echo $(( ($(date +%s%N) - start) / 1000000 ))
    exit 0
  fi
  sleep 0.1
done
echo "still down: $(systemctl is-active "$unit")"; exit 1
"""


def _kill_and_time(host, unit: str) -> float:
    client = connect(host, 10)
    try:
        # The script polls for up to 30 s in silence: read past that, so a slow recovery
        # is measured and reported, not a read timeout.
        rc, out, err = run(client, KILL_AND_TIME.format(unit=unit), timeout=90)
    finally:
        client.close()
    assert rc == 0, f"{unit} on {host.name}: {out.decode()} {err}"
    return int(out.decode().strip()) / 1000


def _app_answers(site: Site, timeout: float = 30) -> float:
    """Seconds until health reports every database ok and the API answers."""
    start = time.monotonic()
    while True:
        status, health = site.request("/health/", auth=False)
        api, _ = site.request("/api/students/?page_size=1")
        if status == 200 and api == 200 and set(health["checks"]["database"].values()) == {"ok"}:
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, (status, health, api)
        time.sleep(0.5)


@pytest.fixture(scope="module")
def site(large):
    site = Site(*large)
    import secrets as token_source

    password = token_source.token_urlsafe(16)
    site.manage(Role.web, "createsuperuser", "--noinput", "--username", "e2e-heal",
                "--email", "e2e-heal@school.example",
                env={"DJANGO_SUPERUSER_PASSWORD": password})
    site.log_in("e2e-heal", password)
    return site


def test_postgresql_killed_comes_back_and_the_app_reconnects(site):
    db = site.deployment.topology.first(Role.database)
    version = site.deployment.host_vars[db.name]["postgresql_version"]
    seconds = _kill_and_time(db, f"postgresql@{version}-main.service")
    answered = _app_answers(site)
    print(f"\nPostgreSQL kill -9: active again in {seconds:.1f} s; app answers "
          f"{answered:.1f} s later")
    assert seconds <= RECOVERY_GOAL_S


def test_each_redis_killed_comes_back_and_the_app_recovers(site):
    hosts = {h.name: h for h in (site.deployment.topology.first(Role.redis_cache),
                                 site.deployment.topology.first(Role.redis_broker)) if h}
    for host in hosts.values():
        for instance in site.deployment.host_vars[host.name]["redis_instances"]:
            seconds = _kill_and_time(host, f"{instance['unit']}.service")
            answered = _app_answers(site)
            print(f"\n{instance['unit']} kill -9: active again in {seconds:.1f} s; app "
                  f"answers {answered:.1f} s later")
            assert seconds <= RECOVERY_GOAL_S
