"""Redis Sentinel as the very-large tier renders it, with real processes on this machine.

For the cache group and the broker group: three redis-server and three redis-sentinel run
the rendered redis.conf, ACL file, master credentials and Sentinel seed, moved to loopback
(only bind addresses, ports and paths are rewritten). The app's own clients, configured by
the rendered Django settings (tests/rendering/sentinel_client.py), write and read; an
operator's `SENTINEL FAILOVER` (as the sentinel user) promotes a replica; the clients go on;
the old primary rejoins as a replica with its replication credentials.

Needs redis-server and redis-sentinel (Debian's redis-sentinel package; scripts/setup.sh).
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role
from ssas_deploy.rendering import SECRET_NAMES, render_deployment, write_tree
from ssas_deploy.topology import NAME_PREFIX, Placement, SshTarget

from .test_validators import free_port, need, private_addresses

pytestmark = pytest.mark.validators
redis = pytest.importorskip("redis")
CLIENT = Path(__file__).with_name("sentinel_client.py")
GROUPS = {"cache": (Role.redis_cache, "ssas-cache"), "broker": (Role.redis_broker, "ssas-broker")}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The very-large tier rendered with real random secrets: (deployment, secrets, tree)."""
    profile = load_profile("very-large")
    deployment = build(profile, private_addresses(profile))
    values = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    out = tmp_path_factory.mktemp("very-large-sentinel")
    write_tree(render_deployment(deployment, values), out)
    return deployment, values, out


@dataclass
class Group:
    """One replicated Redis group on loopback: ports by the rendered address of each host."""

    kind: str
    master_name: str
    hosts: list[str]
    addresses: list[str]
    redis_ports: list[int]
    sentinel_ports: list[int]
    work: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def port_of(self, address: str) -> int:
        return self.redis_ports[self.addresses.index(address)]


def relocate(text: str, group: Group, index: int, sentinel: bool) -> str:
    """The rendered file with bind, port, paths and peer addresses moved to this machine."""
    node = group.work / f"{'sentinel' if sentinel else 'redis'}-{index}"
    port = (group.sentinel_ports if sentinel else group.redis_ports)[index]
    lines = []
    for line in text.splitlines():
        words = line.split()
        directive = words[0] if words else ""
        if directive == "bind":
            line = "bind 127.0.0.1"
        elif directive == "port":
            line = f"port {port}"
        elif directive == "dir":
            line = f"dir {node}"
        elif directive in ("aclfile", "include"):
            line = f"{directive} {node / Path(words[1]).name}"
        elif directive == "replicaof":
            line = f"replicaof 127.0.0.1 {group.port_of(words[1])}"
        elif words[:2] == ["sentinel", "monitor"]:
            line = (f"sentinel monitor {words[2]} 127.0.0.1 {group.port_of(words[3])} "
                    f"{words[5]}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def start_group(kind: str, deployment, out: Path, work: Path, values: dict) -> Group:
    """Three redis-server and three redis-sentinel of one group, from the rendered files."""
    role, master_name = GROUPS[kind]
    hosts = [h for h in deployment.topology.with_role(role)]
    assert len(hosts) == 3, f"very-large has {len(hosts)} {kind} hosts"
    group = Group(kind, master_name, [h.name for h in hosts], [h.address for h in hosts],
                  [free_port() for _ in hosts], [free_port() for _ in hosts], work)
    # Sentinels start once the replicas are linked: their first INFO of the primary lists
    # both (the next comes 10 s later).
    admin = values["redis_admin_password"]
    for sentinel in (False, True):
        if sentinel:
            wait_for("both replicas linked to the primary",
                     lambda: role_of(group, 0, admin)["connected_slaves"] == 2, group=group)
        for index, host in enumerate(group.hosts):
            _start_node(group, index, out / host / "etc/redis", sentinel)
    return group


def _start_node(group: Group, index: int, etc: Path, sentinel: bool) -> None:
    """One redis-server (its conf, ACL file and master credentials) or one redis-sentinel."""
    node = group.work / f"{'sentinel' if sentinel else 'redis'}-{index}"
    node.mkdir(parents=True)
    conf = node / ("sentinel.conf" if sentinel else "redis.conf")
    source = "ssas-sentinel.conf" if sentinel else f"ssas-{group.kind}.conf"
    conf.write_text(relocate((etc / source).read_text(), group, index, sentinel))
    if not sentinel:
        for extra in (f"ssas-{group.kind}.acl", f"ssas-{group.kind}-auth.conf"):
            (node / extra).write_text((etc / extra).read_text())
    program = "redis-sentinel" if sentinel else "redis-server"
    with (node / "log").open("w") as log:
        group.processes.append(subprocess.Popen([program, str(conf)], stdout=log,
                                                stderr=subprocess.STDOUT))


def stop(group: Group) -> None:
    for process in group.processes:
        process.terminate()
    for process in group.processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(what: str, check, timeout: float = 60.0, group: Group | None = None):
    """check()'s first true value within `timeout` seconds, or a failure with the logs."""
    # A generous bound: Sentinel finds replicas by INFO every 10 s and peers by hello every
    # 2 s, slower on a busy machine; the failover time itself is measured and printed.
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (redis.RedisError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    logs = ""
    if group:
        logs = "\n".join(f"--- {p.parent.name}\n{p.read_text()[-1500:]}"
                         for p in sorted(group.work.glob("*/log")))
    pytest.fail(f"{what} within {timeout} s (last: {last!r})\n{logs}")


def sentinel_client(group: Group, index: int, user: str, password: str):
    return redis.Redis(port=group.sentinel_ports[index], username=user, password=password,
                       socket_timeout=2, decode_responses=True)


def app_settings(group: Group, deployment, out: Path, work: Path) -> Path:
    """The first web host's rendered /etc/ssas with the Sentinels' addresses moved here."""
    web = deployment.topology.with_role(Role.web)[0].name
    source = out / web / "etc/ssas"
    target = work / "etc-ssas"
    target.mkdir()
    sentinel_port = deployment.host_vars[group.hosts[0]]["redis_sentinel_port"]
    for path in source.glob("*.py"):
        text = path.read_text()
        for address, port in zip(group.addresses, group.sentinel_ports, strict=True):
            text = text.replace(f"[{address!r}, {sentinel_port}]", f"['127.0.0.1', {port}]")
        (target / path.name).write_text(text)
    env = (source / "secrets.env").read_text()
    (target / "secrets.env").write_text(env)
    return target


def start_client(settings_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(settings_dir), DJANGO_SETTINGS_MODULE="ssas_settings")
    for line in (settings_dir / "secrets.env").read_text().splitlines():
        key, _, value = line.partition("=")
        if key:
            env[key] = value
    return subprocess.Popen([sys.executable, str(CLIENT)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def probe(client: subprocess.Popen, kind: str) -> dict:
    client.stdin.write(kind + "\n")
    client.stdin.flush()
    line = client.stdout.readline()
    if not line:
        pytest.fail(f"the app's client died: {client.stderr.read()}")
    return json.loads(line)


def role_of(group: Group, index: int, admin_password: str) -> dict:
    node = redis.Redis(port=group.redis_ports[index], username="ssas-admin",
                       password=admin_password, socket_timeout=2)
    return node.info("replication")


@pytest.mark.parametrize("kind", ["cache", "broker"])
def test_sentinel_failover_with_the_apps_clients(kind, rendered, tmp_path):
    need("redis-server", "redis-sentinel", "redis-cli")
    deployment, values, out = rendered
    group = start_group(kind, deployment, out, tmp_path, values)
    client = None
    try:
        watcher = sentinel_client(group, 0, "sentinel", values["redis_sentinel_password"])
        wait_for("the Sentinels see the primary, 2 replicas and each other",
                 lambda: (m := watcher.sentinel_master(group.master_name))["num-slaves"] == 2
                 and m["num-other-sentinels"] == 2 and m["port"] == group.redis_ports[0],
                 group=group)
        # The app's user may ask where the primary is, but not move it.
        app_user = sentinel_client(group, 1, "ssas", values[f"redis_{kind}_password"])
        assert int(app_user.sentinel_get_master_addr_by_name(group.master_name)[1]) == (
            group.redis_ports[0])
        with pytest.raises(redis.exceptions.NoPermissionError):
            app_user.execute_command("SENTINEL", "FAILOVER", group.master_name)

        # The Sentinel asked to fail over promotes only a replica it sees linked to the primary.
        operator = sentinel_client(group, 2, "sentinel", values["redis_sentinel_password"])
        wait_for("the Sentinel sees both replicas in sync",
                 lambda: [(r["flags"], r["master-link-status"])
                          for r in operator.sentinel_slaves(group.master_name)]
                 == [("slave", "ok")] * 2, group=group)
        client = start_client(app_settings(group, deployment, out, tmp_path))
        before = probe(client, kind)
        assert before["ok"], before

        started = time.monotonic()
        failover = subprocess.run(
            ["redis-cli", "-p", str(group.sentinel_ports[2]), "--user", "sentinel",
             "--no-auth-warning", "SENTINEL", "FAILOVER", group.master_name],
            capture_output=True, text=True, env=dict(os.environ,
                                                     REDISCLI_AUTH=values["redis_sentinel_password"]))
        assert failover.stdout.strip() == "OK", failover.stdout + failover.stderr
        new_port = wait_for(
            "a replica promoted",
            lambda: (p := int(watcher.sentinel_get_master_addr_by_name(group.master_name)[1]))
            != group.redis_ports[0] and p, group=group)
        switched = time.monotonic() - started
        after = probe(client, kind)
        assert after["ok"], after
        recovered = time.monotonic() - started
        print(f"\n{kind}: Sentinel switched the primary in {switched:.2f} s; the app's client "
              f"wrote and read again {recovered:.2f} s after SENTINEL FAILOVER ({after})")

        admin = values["redis_admin_password"]
        promoted = group.redis_ports.index(new_port)
        assert role_of(group, promoted, admin)["role"] == "master"
        # The old primary had no replicaof, but has masteruser/masterauth: it follows.
        wait_for("the old primary rejoins as a replica of the new one",
                 lambda: (r := role_of(group, 0, admin))["role"] == "slave"
                 and r["master_port"] == new_port and r["master_link_status"] == "up",
                 group=group)
        wait_for("the new primary has 2 connected replicas",
                 lambda: role_of(group, promoted, admin)["connected_slaves"] == 2, group=group)
        # Sentinel rewrote its own file (the reason the role writes it as a seed).
        rewritten = (tmp_path / "sentinel-0" / "sentinel.conf").read_text()
        assert re.search(rf"sentinel monitor {group.master_name} \S+ {new_port} 2", rewritten)
    finally:
        if client:
            client.stdin.close()
            client.wait(timeout=10)
        stop(group)


def test_sentinel_resolves_host_names_only_as_rendered(tmp_path):
    """An inventory of host names: the seed lets Sentinel resolve them (it refuses otherwise)."""
    need("redis-sentinel", "redis-cli")
    profile = load_profile("very-large")
    placements = private_addresses(profile)
    names = [f"{NAME_PREFIX[Role.redis_cache]}-{i + 1}.school.test" for i in range(3)]
    placements[Role.redis_cache] = Placement(placements[Role.redis_cache].names, names,
                                             [SshTarget()] * 3)
    deployment = build(profile, placements)
    values = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    [seed] = [f for f in render_deployment(deployment, values)
              if f.spec.dest == "/etc/redis/ssas-sentinel.conf" and f.host == "cache-1"]
    assert "sentinel resolve-hostnames yes" in seed.content
    # `localhost` stands in for the school's names (this machine resolves no other).
    text = seed.content.replace(names[0], "localhost")
    text = re.sub(r"^bind .*$", "bind 127.0.0.1", text, flags=re.M)
    text = re.sub(r"^dir .*$", f"dir {tmp_path}", text, flags=re.M)
    for label, content in (("rendered", text),
                           ("without", text.replace("sentinel resolve-hostnames yes\n", ""))):
        port = free_port()
        conf = tmp_path / f"{label}.conf"
        conf.write_text(re.sub(r"^port .*$", f"port {port}", content, flags=re.M))
        process = subprocess.Popen(["redis-sentinel", str(conf)], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            if label == "without":
                output = process.communicate(timeout=10)[0]
                assert process.returncode != 0 and "resolve" in output.lower(), output
                continue
            watcher = redis.Redis(port=port, username="sentinel",
                                  password=values["redis_sentinel_password"],
                                  socket_timeout=2, decode_responses=True)
            master = wait_for("Sentinel started with a host name",
                              lambda w=watcher: w.sentinel_master("ssas-cache"))
            assert master["ip"] == "localhost"
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
