"""Verify the redis role on a real (containerised) Debian 12 host.

The converge play used `ssas-deploy hostvars --profile medium --host web-1`: both instances
on one host, bound to 127.0.0.1 only.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCENARIO = Path(__file__).resolve().parents[1]
# The repository root: the shared testinfra helpers live in tests/molecule_support.py.
sys.path.insert(0, str(SCENARIO.parents[2]))
from tests.molecule_support import kill_9_and_wait_for_restart  # noqa: E402
SECRETS = yaml.safe_load((SCENARIO / "vars.yml").read_text())["ssas_secrets"]
PROFILE, HOST = "medium", "web-1"
INSTANCES = {"cache": 6379, "broker": 6380}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The CLI's own rendering of the host's files: manifest entries by path, and the tree."""
    out = tmp_path_factory.mktemp("render")
    subprocess.run(
        [sys.executable, "-m", "ssas_deploy", "render", "--profile", PROFILE, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    entries = json.loads((out / "manifest.json").read_text())["files"]
    files = {
        entry["path"]: entry
        for entry in entries
        if entry["host"] == HOST
        and (entry["template"].startswith("redis/") or "ssas-redis" in entry["template"])
    }
    return out / HOST, files


def redis_cli(host, port, *args, user="ssas", password=None):
    auth = f"REDISCLI_AUTH='{password}' " if password else ""
    user_opt = f"--user {user} " if password else ""
    return host.run(f"{auth}redis-cli --no-auth-warning -h 127.0.0.1 -p {port} {user_opt}{' '.join(args)}")


def test_redis_package_installed(host):
    assert host.package("redis-server").is_installed


@pytest.mark.parametrize("name", INSTANCES)
def test_instance_unit_running_and_enabled(host, name):
    service = host.service(f"ssas-redis-{name}")
    assert service.is_running
    assert service.is_enabled
    assert host.run(f"systemctl show -P User ssas-redis-{name}").stdout.strip() == "redis"


def test_distro_unit_masked_and_stopped(host):
    assert host.run("systemctl is-enabled redis-server.service").stdout.strip() == "masked"
    assert not host.service("redis-server").is_running


def test_listening_only_on_loopback(host):
    listening = {str(s) for s in host.socket.get_listening_sockets() if s.startswith("tcp")}
    for port in INSTANCES.values():
        assert f"tcp://127.0.0.1:{port}" in listening
    redis_ports = {s for s in listening if s.rsplit(":", 1)[1] in {"6379", "6380", "26379"}}
    assert redis_ports == {"tcp://127.0.0.1:6379", "tcp://127.0.0.1:6380"}


def test_files_owner_mode_and_bytes(host, rendered):
    tree, files = rendered
    expected = {
        "/etc/redis/ssas-cache.conf", "/etc/redis/ssas-cache.acl",
        "/etc/redis/ssas-broker.conf", "/etc/redis/ssas-broker.acl",
        "/etc/systemd/system/ssas-redis-cache.service",
        "/etc/systemd/system/ssas-redis-broker.service",
    }
    assert set(files) == expected
    for path, entry in files.items():
        deployed = host.file(path)
        assert deployed.exists, path
        assert deployed.user == entry["owner"], path
        assert deployed.group == entry["group"], path
        assert deployed.mode == int(entry["mode"], 8), path
        if not entry["secret"]:
            assert deployed.content_string == (tree / path.lstrip("/")).read_text(), path


@pytest.mark.parametrize("name", INSTANCES)
def test_conf_and_acl_not_world_readable(host, name):
    for path in (f"/etc/redis/ssas-{name}.conf", f"/etc/redis/ssas-{name}.acl"):
        config = host.file(path)
        assert config.user == "redis"
        assert config.mode == 0o640


@pytest.mark.parametrize("name", INSTANCES)
def test_acl_file_holds_only_hashes_of_the_passwords(host, name):
    acl = host.check_output(f"cat /etc/redis/ssas-{name}.acl")
    assert "user default off" in acl
    for user, secret in (("ssas", f"redis_{name}_password"), ("ssas-admin", "redis_admin_password"),
                         ("replicator", "redis_replication_password")):
        digest = hashlib.sha256(SECRETS[secret].encode()).hexdigest()
        assert f"user {user} on #{digest} " in acl
        assert SECRETS[secret] not in acl


@pytest.mark.parametrize(("name", "port"), INSTANCES.items())
def test_ping_with_password(host, name, port):
    result = redis_cli(host, port, "PING", password=SECRETS[f"redis_{name}_password"])
    assert result.stdout.strip() == "PONG", result


@pytest.mark.parametrize(("name", "port"), INSTANCES.items())
def test_default_user_and_wrong_password_refused(host, name, port):
    anonymous = redis_cli(host, port, "PING")
    assert "NOAUTH" in anonymous.stdout + anonymous.stderr
    wrong = redis_cli(host, port, "PING", password="not-the-password")
    assert "WRONGPASS" in wrong.stdout + wrong.stderr
    other = "broker" if name == "cache" else "cache"
    crossed = redis_cli(host, port, "PING", password=SECRETS[f"redis_{other}_password"])
    assert "WRONGPASS" in crossed.stdout + crossed.stderr


@pytest.mark.parametrize("port", INSTANCES.values())
# (KEYS's pattern quoted for the shell redis_cli runs in.)
@pytest.mark.parametrize("command", [("CONFIG", "GET", "maxmemory"), ("KEYS", "'*'"), ("FLUSHALL",),
                                     ("SWAPDB", "0", "1"), ("ACL", "LOAD"), ("CLIENT", "LIST"),
                                     ("SLOWLOG", "RESET")])
def test_app_user_has_no_admin_or_dangerous_commands(host, port, command):
    name = "cache" if port == 6379 else "broker"
    result = redis_cli(host, port, *command, password=SECRETS[f"redis_{name}_password"])
    assert "NOPERM" in result.stdout + result.stderr


@pytest.mark.parametrize("port", INSTANCES.values())
def test_admin_user_loads_acls_but_reads_no_keys(host, port):
    admin = {"user": "ssas-admin", "password": SECRETS["redis_admin_password"]}
    assert redis_cli(host, port, "ACL", "LOAD", **admin).stdout.strip() == "OK"
    read = redis_cli(host, port, "GET", "anything", **admin)
    assert "NOPERM" in read.stdout + read.stderr


def info(host, port, name, section):
    text = redis_cli(host, port, "INFO", section, user="ssas-admin",
                     password=SECRETS["redis_admin_password"]).stdout
    return dict(line.split(":", 1) for line in text.replace("\r", "").splitlines() if ":" in line)


def test_cache_evicts_and_keeps_nothing_on_disk(host):
    memory = info(host, 6379, "cache", "memory")
    assert memory["maxmemory_policy"] == "allkeys-lru"
    assert int(memory["maxmemory"]) > 0
    assert info(host, 6379, "cache", "persistence")["aof_enabled"] == "0"


def test_broker_never_evicts_and_writes_aof(host):
    assert info(host, 6380, "broker", "memory")["maxmemory_policy"] == "noeviction"
    assert info(host, 6380, "broker", "persistence")["aof_enabled"] == "1"


def test_checker_rejects_a_bad_directive(host):
    good = host.run("/usr/local/sbin/ssas-redis-check-config /etc/redis/ssas-cache.conf")
    assert good.rc == 0, good.stderr
    bad = host.run(
        "f=$(mktemp) && cat /etc/redis/ssas-cache.conf > $f && echo 'maxmemory-policy sometimes' >> $f"
        " && /usr/local/sbin/ssas-redis-check-config $f; r=$?; rm -f $f; exit $r"
    )
    assert bad.rc == 1
    assert "maxmemory-policy" in bad.stderr


# Last: they kill the servers. Our unit (templates/systemd/ssas-redis.service.j2) says Restart=.
@pytest.mark.parametrize(("name", "port"), INSTANCES.items())
def test_restarts_after_kill_9(host, name, port):
    kill_9_and_wait_for_restart(host, f"ssas-redis-{name}.service")
    result = redis_cli(host, port, "PING", password=SECRETS[f"redis_{name}_password"])
    assert result.stdout.strip() == "PONG", result.stderr
