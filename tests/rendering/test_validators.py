"""Every rendered file of every tier goes through its own daemon's checker.

Needs the real tools (nginx, PostgreSQL 15, redis-server, systemd-analyze, nft, gunicorn and
the app): `scripts/test.sh` installs them. Rendering uses an inventory with loopback-free
private addresses, as a real school would have.
"""

import os
import py_compile
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import MASK, render_deployment, write_tree
from ssas_deploy.sizing.minimums import least_ram_gib
from ssas_deploy.topology import build_topology
from tests.hardware_samples import accepted_profile, samples
from tests.private_inventory import private_addresses

from .sandbox import overlay, run_with_mounts

pytestmark = pytest.mark.validators
# "@min": every host at 1 core and the least RAM `profiles validate` accepts for it, so the
# daemons' own checkers see the smallest values any accepted hardware derives; "@max": every
# host at the schema's most (256 cores, 4096 GiB), the largest. "#i": a seeded random sample
# of hardware, counts and colocations (tests/hardware_samples.py), raised to the least RAM
# its refusal names where it was refused; the unit test checks many more the same way
# against the limits written out there (tests/unit/test_hardware_extremes.py).
SAMPLE_SEED = 1414
SAMPLES_PER_TIER = 1
TIERS = ["small", "medium", "large", "very-large",
         *(f"{base}@{corner}" for corner in ("min", "max")
           for base in ("small", "medium", "large", "very-large")),
         *(s.label for s in samples(SAMPLE_SEED, SAMPLES_PER_TIER))]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


# Tools these tests can use only as root: private mount namespaces, another user's process.
ROOT_ONLY = {"unshare", "runuser"}


def need(*tools: str) -> None:
    """Skip (fail in CI) unless every tool is installed and, for ROOT_ONLY ones, we are root."""
    missing = [t for t in tools if not shutil.which(t) and not Path(t).exists()]
    if os.geteuid() != 0:
        missing += [f"{t} (needs root)" for t in tools if t in ROOT_ONLY]
    if missing and os.environ.get("CI"):
        pytest.fail(f"validator tools missing in CI: {missing}")
    if missing:
        pytest.skip(f"missing {missing}; run scripts/test.sh to install them")


def smallest_accepted(base: str, directory: Path) -> Path:
    """A profile extending `base` with every dedicated host at 1 core and its least RAM."""
    lines = [f"name: {base}-min", f"extends: {base}", "hosts:"]
    for host in build_topology(load_profile(base)).hosts:
        if host.index == 0:
            lines.append(f"  {host.group.value}: {{cpu_cores: 1, disk_gib: 5, "
                         f"ram_gib: {least_ram_gib(host.roles)}}}")
    path = directory / f"{base}-min.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def largest_accepted(base: str, directory: Path) -> Path:
    """A profile extending `base` with every dedicated host at the schema's most."""
    lines = [f"name: {base}-max", f"extends: {base}", "hosts:"]
    for host in build_topology(load_profile(base)).hosts:
        if host.index == 0:
            lines.append(f"  {host.group.value}: {{cpu_cores: 256, disk_gib: 100000, "
                         "ram_gib: 4096}")
    path = directory / f"{base}-max.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tier_deployment(name: str, tmp_path_factory):
    """The deployment of a TIERS entry: a built-in tier, one at its least ("@min") or most
    ("@max") accepted hardware, or a random sample ("#i"), on private addresses."""
    if "#" in name:
        [sample] = [s for s in samples(SAMPLE_SEED, SAMPLES_PER_TIER) if s.label == name]
        profile, _ = accepted_profile(sample, tmp_path_factory.mktemp("profiles"))
        return build(profile, private_addresses(profile))
    base, _, corner = name.partition("@")
    corners = {"min": smallest_accepted, "max": largest_accepted}
    source = (str(corners[corner](base, tmp_path_factory.mktemp("profiles"))) if corner
              else base)
    profile = load_profile(source)
    return build(profile, private_addresses(profile))


@pytest.fixture(scope="module", params=TIERS)
def tier(request, tmp_path_factory):
    deployment = tier_deployment(request.param, tmp_path_factory)
    files = render_deployment(deployment)
    out = tmp_path_factory.mktemp(request.param)
    write_tree(files, out)
    return request.param, deployment, files, out


def distinct(files, suffix):
    """One rendered file per distinct content: identical hosts need one check."""
    seen = {}
    for item in files:
        if item.spec.dest.endswith(suffix):
            seen.setdefault(item.sha256, item)
    return list(seen.values())


def test_nginx_accepts_the_config(tier, tmp_path):
    need("nginx", "openssl", "unshare")
    _, _, files, out = tier
    for item in distinct(files, "conf.d/ssas.conf"):
        host_tree = out / item.host
        nginx_dir = overlay("/etc/nginx", host_tree, tmp_path / item.host)
        ssl_dir = overlay("/etc/ssl", host_tree, tmp_path / item.host)
        (ssl_dir / "ssas").mkdir(exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=ssas.test", "-keyout", ssl_dir / "ssas/ssas.key",
                        "-out", ssl_dir / "ssas/ssas.crt"], check=True, capture_output=True)
        result = run_with_mounts({"/etc/nginx": nginx_dir, "/etc/ssl": ssl_dir},
                                 "nginx -t -c /etc/nginx/nginx.conf")
        assert result.returncode == 0, f"{item.host}: {result.stderr}"
        assert "syntax is ok" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*args, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)],
                          capture_output=True, text=True, **kwargs)


def test_postgresql_starts_with_the_rendered_config(tier, tmp_path):
    need(str(PG_BIN / "postgres"), "runuser")
    name, deployment, files, out = tier
    confs = distinct(files, "postgresql.conf")
    if not confs:
        pytest.skip("no PostgreSQL in this tier")
    # pytest's temp dirs are private to root; the server runs as postgres.
    work = Path(tempfile.mkdtemp(prefix="ssas-pg-"))
    shutil.chown(work, "postgres", "postgres")
    data = work / "data"
    init = as_postgres(PG_BIN / "initdb", "-D", data, "-A", "trust")
    assert init.returncode == 0, init.stderr
    # Terabytes of shared_buffers ("@max"), and a random sample's files but its first that
    # fits this machine: checked by `postgres -C`, not allocated here.
    if name.endswith("@max"):
        started = []
    elif "#" in name:
        started = [c for c in confs if _pg_bytes(deployment.host_vars[c.host][
            "postgresql_settings"]["shared_buffers"]) < _ram_bytes() // 8][:1]
    else:
        started = confs
    checked = [c for c in confs if c not in started]
    if checked:
        _postgres_reads_the_config(deployment, checked, out, work, data)
    for item in started:
        conf_dir = work / item.host
        shutil.copytree(out / item.host / "etc/postgresql/15/main", conf_dir)
        for path in (conf_dir, *conf_dir.iterdir()):
            shutil.chown(path, "postgres", "postgres")
        port = free_port()
        options = (f"-c config_file={conf_dir}/postgresql.conf -c data_directory={data} "
                   f"-c hba_file={conf_dir}/pg_hba.conf -c ident_file={data}/pg_ident.conf "
                   f"-c external_pid_file={work}/pid -c unix_socket_directories={work} "
                   f"-c listen_addresses='' -c port={port}")
        start = as_postgres(PG_BIN / "pg_ctl", "-D", data, "-w", "-t", "60", "-l",
                            work / "log", "-o", options, "start")
        log = (work / "log").read_text() if (work / "log").exists() else ""
        assert start.returncode == 0, f"{item.host}: {start.stderr}\n{log}"
        try:
            hv = deployment.host_vars[item.host]
            expected = hv["postgresql_settings"]["shared_buffers"]
            show = as_postgres(PG_BIN / "psql", "-h", work, "-p", port, "-d", "postgres", "-Atc",
                               "select current_setting('shared_buffers'), "
                               "(select count(*) from pg_hba_file_rules where error is not null)")
            assert show.returncode == 0, show.stderr
            shared_buffers, hba_errors = show.stdout.strip().split("|")
            assert hba_errors == "0"
            assert _pg_bytes(shared_buffers) == _pg_bytes(expected)
        finally:
            as_postgres(PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    shutil.rmtree(work)


def _ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _postgres_reads_the_config(deployment, confs, out: Path, work: Path, data: Path) -> None:
    """`postgres -C` loads each rendered file (it refuses any value out of range or of the
    wrong kind, and max_connections plus workers over its backend limit) and reports what
    it would size, without allocating the shared memory."""
    for item in confs:
        conf_dir = work / item.host
        shutil.copytree(out / item.host / "etc/postgresql/15/main", conf_dir)
        for path in (conf_dir, *conf_dir.iterdir()):
            shutil.chown(path, "postgres", "postgres")
        result = as_postgres(PG_BIN / "postgres", "-D", data, "-c",
                             f"config_file={conf_dir}/postgresql.conf", "-c",
                             f"data_directory={data}", "-C", "shared_memory_size")
        assert result.returncode == 0, f"{item.host}: {result.stderr}"
        shared_buffers = deployment.host_vars[item.host]["postgresql_settings"]["shared_buffers"]
        assert int(result.stdout) * 1024**2 > _pg_bytes(shared_buffers), result.stdout  # MB
        shutil.rmtree(conf_dir)


def _pg_bytes(text: str) -> int:
    units = {"kB": 1024, "MB": 1024**2, "GB": 1024**3}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(text[: -len(unit)]) * factor
    return int(text)


def test_pgbouncer_starts_with_the_rendered_config(tier):
    """PgBouncer runs each rendered pgbouncer.ini (its pools, limits, auth and TLS settings as
    rendered; the addresses, port and file paths moved here) and offers TLS to a client.

    Only the listen address, port, socket directory, auth, log and pid files and the TLS key
    pair are replaced: the rendered ones name the host's own address and Debian's paths.
    """
    need("pgbouncer", "runuser", "openssl")
    _, _, files, out = tier
    inis = {}
    for item in files:  # one per content, the host's own address aside
        if item.spec.dest.endswith("pgbouncer.ini"):
            inis.setdefault(re.sub(r"(?m)^listen_addr = .*$", "", item.content), item)
    if not inis:
        pytest.skip("no PgBouncer in this tier")
    work = Path(tempfile.mkdtemp(prefix="ssas-pgb-"))
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=ssas.test", "-keyout", work / "tls.key",
                        "-out", work / "tls.crt"], check=True, capture_output=True)
        for item in inis.values():
            _pgbouncer_runs(item, out / item.host / "etc/pgbouncer/userlist.txt", work)
    finally:
        shutil.rmtree(work)


def _pgbouncer_runs(item, userlist: Path, work: Path) -> None:
    port = free_port()
    moved = {"listen_addr": "127.0.0.1", "listen_port": port, "unix_socket_dir": work,
             "auth_file": work / "userlist.txt", "logfile": work / "pgbouncer.log",
             "pidfile": work / "pgbouncer.pid", "client_tls_key_file": work / "tls.key",
             "client_tls_cert_file": work / "tls.crt"}
    text = item.content
    for key, value in moved.items():
        text, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert found == 1, f"{item.host}: no {key} in pgbouncer.ini"
    shutil.copy(userlist, work / "userlist.txt")
    (work / "pgbouncer.ini").write_text(text)
    (work / "pgbouncer.log").unlink(missing_ok=True)
    for path in (work, *work.iterdir()):
        shutil.chown(path, "postgres", "postgres")
    server = subprocess.Popen(["runuser", "-u", "postgres", "--", "pgbouncer",
                               str(work / "pgbouncer.ini")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answer = _ssl_request(port, server)
        log = (work / "pgbouncer.log").read_text() if (work / "pgbouncer.log").exists() else ""
        assert answer == b"S", f"{item.host}: no TLS offered ({answer!r})\n{log}"
        assert not re.search(r"(?m) (ERROR|FATAL) ", log), f"{item.host}: {log}"
    finally:
        # The pooler this test started (its pid file is in this test's own directory);
        # runuser exits with it.
        pid = work / "pgbouncer.pid"
        try:
            os.kill(int(pid.read_text().strip()), 15)
        except (OSError, ValueError):
            server.terminate()
        server.communicate(timeout=15)


def _ssl_request(port: int, server: subprocess.Popen) -> bytes:
    """PostgreSQL's SSLRequest to the pooler: b"S" when it offers TLS."""
    deadline = time.monotonic() + 15
    while True:
        if server.poll() is not None:
            raise AssertionError(f"pgbouncer exited {server.returncode}: "
                                 f"{server.stdout.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                conn.sendall((8).to_bytes(4, "big") + (80877103).to_bytes(4, "big"))
                return conn.recv(1)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise AssertionError("pgbouncer did not listen") from None
            time.sleep(0.1)


def test_redis_loads_each_rendered_config(tier, tmp_path):
    need("redis-server", "redis-cli", "unshare")
    _, _, files, out = tier
    confs = distinct(files, ".conf")
    confs = [c for c in confs if c.spec.template == "redis/redis.conf.j2"]
    if not confs:
        pytest.skip("no Redis in this tier")
    for item in confs:
        instance = item.spec.extra_vars["redis_instance"]
        label = f"{item.host}-{instance['name']}"
        redis_dir = overlay("/etc/redis", out / item.host, tmp_path / label)
        state = tmp_path / f"state-{label}"
        data = state / f"ssas-{instance['name']}"  # the config's `dir`, checked when parsed
        data.mkdir(parents=True)
        # Not under tmp_path: a Unix socket's path must stay under 108 bytes, and pytest's
        # per-test directory names grow with the number of parameters.
        sock = Path(tempfile.mkdtemp(prefix="ssas-redis-")) / "redis.sock"
        # Port 0: no TCP listener, so the config's private bind address need not exist here.
        command = (f"redis-server /etc/redis/ssas-{instance['name']}.conf --port 0 "
                   f"--unixsocket {sock} --dir {data} --daemonize yes --pidfile {data}/pid "
                   f"--logfile {data}/log")
        started = run_with_mounts({"/etc/redis": redis_dir, "/var/lib/redis": state}, command)
        assert started.returncode == 0, started.stderr + started.stdout
        try:
            info = _wait_for_info(sock)
            assert f"maxmemory_policy:{instance['maxmemory_policy']}" in info
            aof = "1" if instance["appendonly"] == "yes" else "0"
            assert f"aof_enabled:{aof}" in info
        finally:
            pid = (data / "pid").read_text().strip() if (data / "pid").exists() else None
            if pid:
                os.kill(int(pid), 15)
            shutil.rmtree(sock.parent, ignore_errors=True)


def _wait_for_info(sock: Path) -> str:
    deadline = time.monotonic() + 15
    while True:
        result = subprocess.run(["redis-cli", "-s", str(sock), "--user", "ssas-admin",
                                 "--pass", MASK, "--no-auth-warning", "INFO"],
                                capture_output=True, text=True)
        if result.returncode == 0 and "redis_version" in result.stdout:
            return result.stdout
        if time.monotonic() > deadline:
            raise AssertionError(f"redis did not answer: {result.stdout}{result.stderr}")
        time.sleep(0.2)


def test_systemd_units_verify(tier, tmp_path):
    need("systemd-analyze", "unshare")
    _, _, files, out = tier
    # Drop-ins (<unit>.d/*.conf) are checked with their units: test_systemd_dropins_verify.
    units = [f for f in files if f.spec.dest.startswith("/etc/systemd/system/")
             and not f.spec.dest.endswith(".conf")]
    # The units run programs the roles install later (the app's venv, the restic wrapper):
    # stubs stand in for them.
    stubs = {"/opt": ["ssas/current/venv/bin/gunicorn", "ssas/current/venv/bin/celery"],
             "/usr/local/sbin": ["ssas-restic"]}
    mounts = {}
    for directory, programs in stubs.items():
        mounts[directory] = tmp_path / directory.strip("/").replace("/", "_")
        for program in programs:
            stub = mounts[directory] / program
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n")
            stub.chmod(0o755)
    paths = " ".join(str(out / u.host / u.spec.dest.lstrip("/")) for u in units)
    result = run_with_mounts(mounts, f"systemd-analyze verify {paths}")
    assert result.returncode == 0, result.stderr


def test_systemd_dropins_verify(tier, tmp_path):
    """Each drop-in, loaded by `systemd-analyze verify` as the drop-in of its unit.

    verify exits 0 even when it ignores a drop-in's lines (unknown key, bad value, broken
    section), so any message that names the drop-in fails. The unit is the distribution's
    file where its package is installed here, else a stand-in (verify checks that the
    unit's programs exist). A deliberately broken copy (a misspelt key at the end) shows the
    check would see a bad line.
    """
    need("systemd-analyze")
    _, _, files, out = tier
    dropins = {}
    for item in files:
        dest = item.spec.dest
        if dest.startswith("/etc/systemd/system/") and dest.endswith(".conf"):
            unit_dir, name = dest.removeprefix("/etc/systemd/system/").split("/")
            dropins.setdefault((unit_dir.removesuffix(".d"), name, item.sha256), item)
    assert dropins, "every tier runs a distribution service that needs a restart drop-in"
    for (unit, name, _), item in dropins.items():
        rendered = (out / item.host / item.spec.dest.lstrip("/")).read_text()
        for label, content in [("rendered", rendered),
                               ("broken", rendered + "Restrat=on-failure\n")]:
            work = tmp_path / f"{label}-{unit}-{name}"
            (work / f"{unit}.d").mkdir(parents=True)
            (work / f"{unit}.d" / name).write_text(content)
            unit_file = re.sub(r"@[^.]*\.", "@.", unit)  # an instance's template
            distro = Path("/lib/systemd/system") / unit_file
            (work / unit_file).write_text(distro.read_text() if distro.exists()
                                          else "[Service]\nExecStart=/bin/true\n")
            result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(work / unit)],
                                    capture_output=True, text=True)
            about_dropin = str(work / f"{unit}.d") in result.stdout + result.stderr
            if label == "rendered":
                assert result.returncode == 0 and not about_dropin, f"{unit}: {result.stderr}"
            else:
                assert about_dropin, f"{unit}: the broken drop-in went unnoticed"


def test_nftables_rulesets_parse(tier):
    need("nft")
    _, _, files, out = tier
    for item in distinct(files, "nftables.conf"):
        path = out / item.host / "etc/nftables.conf"
        result = subprocess.run(["nft", "-c", "-f", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{item.host}: {result.stderr}"


def app_environment(host_tree: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(host_tree / "etc/ssas"),
            "DJANGO_SETTINGS_MODULE": "ssas_settings",
            "SSAS_SECRET_KEY": secrets.token_urlsafe(50),
            "SSAS_DB_PASSWORD": "p", "SSAS_REDIS_CACHE_PASSWORD": "c",
            "SSAS_REDIS_BROKER_PASSWORD": "b"}


def test_gunicorn_accepts_config_and_loads_the_app(tier):
    need("gunicorn")
    pytest.importorskip("ssas", reason="the SSAS app is installed by scripts/test.sh")
    _, _, files, out = tier
    for item in distinct(files, "gunicorn.conf.py"):
        host_tree = out / item.host
        for py in (host_tree / "etc/ssas").glob("*.py"):
            py_compile.compile(str(py), doraise=True)
        result = subprocess.run(
            ["gunicorn", "--check-config", "--config", str(host_tree / "etc/ssas/gunicorn.conf.py"),
             "ssas.wsgi:application"],
            capture_output=True, text=True, env=app_environment(host_tree), timeout=120)
        assert result.returncode == 0, f"{item.host}: {result.stdout}{result.stderr}"


def test_django_deploy_check_is_clean_with_rendered_settings(tier):
    pytest.importorskip("ssas", reason="the SSAS app is installed by scripts/test.sh")
    if os.geteuid() != 0 and not os.environ.get("CI"):
        # The rendered settings' file cache lives under /var/lib/ssas, as on a host.
        pytest.skip("Django's checks create the rendered /var/lib/ssas paths: needs root")
    _, _, files, out = tier
    [item] = distinct(files, "ssas_settings.py")[:1]
    result = subprocess.run(["ssas-manage", "check", "--deploy", "--fail-level", "WARNING"],
                            capture_output=True, text=True,
                            env=app_environment(out / item.host), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_apt_accepts_the_unattended_upgrades_config(tier):
    need("apt-config")
    _, _, files, out = tier
    for item in distinct(files, ("20auto-upgrades", "52ssas-unattended-upgrades")):
        path = out / item.host / item.spec.dest.lstrip("/")
        result = subprocess.run(["apt-config", "-c", str(path), "dump"], capture_output=True,
                                text=True)
        assert result.returncode == 0, f"{item.host}: {result.stderr}"
        assert "Unattended-Upgrade" in result.stdout or "APT::Periodic" in result.stdout
