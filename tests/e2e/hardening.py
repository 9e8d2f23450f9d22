"""Probes of a deployed site's hardening, shared by the tiers' end-to-end tests.

What answers on which port from outside, who each daemon runs as, that systemd really
sandboxes the running services (a score is configuration; / mounted read-only in the
service's mount namespace is the effect), and that sshd takes keys only.
"""

import re
import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import paramiko

from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import connect, run

from .site_client import INSECURE, Site

SCORE_LIMIT = 2.5
# Every port a role of any tier listens on (SSH, HTTP(S), gunicorn, PostgreSQL, PgBouncer,
# Redis, Sentinel, etcd, Patroni, node exporter).
PROBED_PORTS = (22, 80, 443, 8000, 5432, 6432, 6379, 6380, 26379, 2379, 2380, 8008, 9100)
OUR_SERVICES = re.compile(r"^(ssas-.*|nginx|pgbouncer|postgresql@.*)\.service$")
SCORE = re.compile(r"Overall exposure level for \S+: (\d+\.\d)")


def _sh(host, command: str) -> str:
    client = connect(host, 10)
    try:
        rc, out, err = run(client, command)
    finally:
        client.close()
    assert rc == 0, f"{host.name}: {command}: {err.decode()}"
    return out.decode()


def _answers(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=2).close()
    except OSError:
        return False
    return True


def open_ports(addresses: list[str]) -> dict[str, set[int]]:
    """Per address, the probed TCP ports that accept a connection from this machine. All
    probes at once: a dropped port costs its whole 2 s timeout."""
    probes = [(address, port) for address in addresses for port in PROBED_PORTS]
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        answered = list(pool.map(lambda probe: _answers(*probe), probes))
    found: dict[str, set[int]] = {address: set() for address in addresses}
    for (address, port), ok in zip(probes, answered, strict=True):
        if ok:
            found[address].add(port)
    return found


def assert_only_expected_ports_answer(site: Site) -> dict[str, set[int]]:
    """From outside the tier: SSH everywhere, HTTP(S) on the load balancer, nothing else."""
    hosts = site.deployment.topology.hosts
    by_address = open_ports([host.address for host in hosts])
    seen = {}
    for host in hosts:
        expected = {22} | ({80, 443} if Role.load_balancer in host.roles else set())
        seen[host.name] = by_address[host.address]
        assert seen[host.name] == expected, f"{host.name}: {sorted(seen[host.name])} answer"
    return seen


def assert_services_sandboxed(site: Site) -> dict[str, float]:
    """Every running service of ours scores at most 2.5 live, and sees / read-only."""
    scores = {}
    for host in site.deployment.topology.hosts:
        units = [line.split()[0] for line in _sh(
            host, "systemctl list-units --type=service --state=running --no-legend --plain"
        ).splitlines() if line.strip()]
        ours = [unit for unit in units if OUR_SERVICES.match(unit)]
        for unit in ours:
            report = _sh(host, f"systemd-analyze security --no-pager {unit}")
            match = SCORE.search(report)
            assert match, f"{host.name}: no score for {unit}"
            scores[f"{host.name}:{unit}"] = float(match[1])
            # The service's own view of the mounts (readable without ptrace rights, which
            # root in a container lacks): ProtectSystem=strict mounts / read-only.
            root_mount = _sh(host, (
                f"pid=$(systemctl show -p MainPID --value {unit}); "
                f"awk '$5 == \"/\" {{print $6}}' /proc/$pid/mountinfo")).split()
            assert root_mount and root_mount[-1].split(",")[0] == "ro", (
                f"{host.name}: {unit} sees / mounted {root_mount}, not read-only")
    over = {name: score for name, score in scores.items() if score > SCORE_LIMIT}
    assert not over, f"services above {SCORE_LIMIT}: {over}"
    assert scores, "no running service of ours was found"
    return scores


def assert_daemons_run_unprivileged(site: Site) -> None:
    """Only what must start as root does (nginx's master, sshd, systemd): the app, Celery,
    Redis, PostgreSQL and PgBouncer never; files the app writes are not for other users."""
    for host in site.deployment.topology.hosts:
        for line in _sh(host, "ps -eo user:32=,args=").splitlines():
            user, _, args = line.strip().partition(" ")
            args = args.strip()
            if re.search(r"/opt/ssas/|redis-server|^postgres|pgbouncer|celery|gunicorn", args):
                assert user != "root", f"{host.name}: runs as root: {args}"
        if Role.web in host.roles or Role.celery_worker in host.roles:
            # The data directory is on every app host; beat's and gunicorn's only where they
            # run. Metrics files come and go with gunicorn's workers: -ignore_readdir_race.
            readable = _sh(host, "find /var/lib/ssas $(ls -d /var/lib/ssas-beat "
                                 "/run/ssas-gunicorn 2>/dev/null) -ignore_readdir_race "
                                 "-perm /o=rwx -print")
            assert not readable.strip(), f"{host.name}: open to other users:\n{readable}"


def assert_ssh_takes_keys_only(site: Site) -> None:
    """Passwords are refused before any is tried; root signs in with its key (this run did)."""
    for host in site.deployment.topology.hosts:
        with socket.create_connection((host.address, host.ssh.port), timeout=10) as sock:
            transport = paramiko.Transport(sock)
            try:
                transport.start_client(timeout=10)
                try:
                    transport.auth_none("root")
                    raise AssertionError(f"{host.name}: root signed in without a key")
                except paramiko.BadAuthenticationType as refused:
                    assert refused.allowed_types == ["publickey"], (host.name,
                                                                   refused.allowed_types)
            finally:
                transport.close()
        effective = _sh(host, "sshd -T | grep -E '^(passwordauthentication|permitrootlogin|"
                              "kbdinteractiveauthentication) '")
        assert "passwordauthentication no" in effective, effective
        assert "kbdinteractiveauthentication no" in effective, effective
        assert "permitrootlogin without-password" in effective, effective


# OWASP Secure Headers Project's recommended set, on every response, sent by nginx alone.
EVERY_RESPONSE = {
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
    "cross-origin-resource-policy": "same-origin",
    "x-permitted-cross-domain-policies": "none",
}


def _headers(site: Site, path: str, method: str = "GET") -> tuple[int, dict[str, list[str]]]:
    request = urllib.request.Request(site.base + path, method=method,
                                     data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, context=INSECURE, timeout=30) as response:
            status, raw = response.status, response.headers
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.headers
    headers: dict[str, list[str]] = {}
    for name, value in raw.items():
        headers.setdefault(name.lower(), []).append(value)
    return status, headers


def assert_owasp_headers(site: Site, static_path: str) -> None:
    """Each header once, on pages, API answers, static files and errors alike; pages are
    never cached, static files are; signing out clears the browser's copy of the site."""
    for path, method in (("/accounts/login/", "GET"), ("/api/schools/", "GET"),
                         (static_path, "GET"), ("/no-such-page/", "GET"),
                         ("/accounts/logout/", "POST")):
        status, headers = _headers(site, path, method)
        for name, value in EVERY_RESPONSE.items():
            assert headers.get(name) == [value], (path, status, name, headers.get(name))
        csp = headers.get("content-security-policy", [""])
        assert len(csp) == 1 and "object-src 'none'" in csp[0], (path, csp)
        assert "permissions-policy" in headers and "server" not in headers, (path, headers)
        cache = headers.get("cache-control", [])
        if path == static_path:
            assert status == 200 and len(cache) == 1 and "max-age=31536000" in cache[0], cache
        else:
            assert cache == ["no-store, max-age=0"], (path, status, cache)
        clear = headers.get("clear-site-data")
        assert clear == (['"cache","cookies","storage"'] if path == "/accounts/logout/"
                         else None), (path, clear)
