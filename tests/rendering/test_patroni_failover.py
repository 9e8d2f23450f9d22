"""PostgreSQL HA as the very-large tier renders it: real etcd, Patroni and PostgreSQL here.

The three members of the main cluster (db-1, db-replica-1, db-replica-2) run the rendered
Patroni configuration, etcd environment, postgresql.conf (Patroni's custom_conf) and
pg_hba.conf, moved to loopback: only addresses, ports, paths and the memory sizes (three
servers share this machine) are rewritten. Patroni bootstraps a leader and clones two
replicas; the settings every member must share come from the DCS; a commit is on the
synchronous standby before it returns; the leader is killed (SIGKILL, as a lost host) and a
replica takes over with every acknowledged row; libpq's multi-host string with
target_session_attrs=read-write (the app's endpoint) finds the new leader; the old leader
comes back as a replica (pg_rewind). etcd (peers and clients) and the REST API speak TLS only,
with the certificates rendered from the vault's cluster_ca_seed (cluster_tls).

Backups follow the leader: every member runs the rendered archive_mode and archive_command,
and a real pgBackRest repository here holds the backup host's rendered stanza (its pg1..pg3
are the three members, local instead of over SSH). The first leader archives and is backed
up; after the failover the new leader archives and the next backup is taken from it.

Needs Debian's patroni, etcd-server and pgbackrest (scripts/setup.sh).
"""

import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from ssas_deploy.context.build import build
from ssas_deploy.context.patroni import (
    CLUSTER_WIDE,
    TLS_CA_FILE,
    TLS_CERT_FILE,
    TLS_KEY_FILE,
    patroni_members,
    patroni_vars,
)
from ssas_deploy.files import files_for_host
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import SECRET_NAMES, environment

from .test_validators import PG_BIN, free_port, need, private_addresses

pytestmark = pytest.mark.validators
# Not yet among the secrets the roles pass to hosts (ssas_secrets): given here.
# Three servers on one test machine: the rendered sizes are for 64 GiB hosts.
SMALL_MEMORY = {"shared_buffers": "128MB", "effective_cache_size": "512MB",
                "maintenance_work_mem": "64MB", "work_mem": "4MB",
                "autovacuum_work_mem": "64MB", "huge_pages": "off"}
DROPPED = ("data_directory", "ident_file", "external_pid_file", "listen_addresses", "port",
           "cluster_name")
# pgBackRest's pgN-host options: the members are local here (pgN-path, -port, -socket-path).
REMOTE_PG = re.compile(r"^pg\d+-host(-port|-user)?=")


@dataclass
class Member:
    name: str
    address: str  # the rendered (private) address
    pg_port: int
    api_port: int
    etcd_client: int
    etcd_peer: int
    work: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def socket_dir(self) -> Path:
        return self.work / "run"

    def tls(self, name: str) -> str:
        """The member's copy of a rendered TLS file: ca.pem, member.pem or member.key."""
        return str(self.work / "tls" / name)


@dataclass
class Cluster:
    members: list[Member]
    deployment: object = field(repr=False)
    values: dict = field(repr=False)  # secrets: never in a failure message
    pgbackrest_conf: Path | None = None

    def by_name(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)


def rendered_files(deployment, host_name: str, values: dict) -> dict[str, str]:
    """Destination -> text of the host's files, with the cluster's Patroni variables on a
    member."""
    host = deployment.topology.by_name(host_name)
    hv = dict(deployment.host_vars[host_name])
    if host in patroni_members(deployment.topology):
        hv.update(patroni_vars(deployment.sizing, host))
    env = environment()
    return {spec.dest: env.get_template(spec.template).render(
                {**hv, **spec.extra_vars, "ssas_secrets": values})
            for spec in files_for_host(hv)}


def relocate_postgresql_conf(text: str, member: Member) -> str:
    """The rendered tuning on loopback: paths into the member's work dir, memory scaled down,
    the rendered archive_command pointed at the member's relocated pgbackrest.conf."""
    pgbackrest_conf = member.work / "pgbackrest.conf"
    out = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in DROPPED or key in SMALL_MEMORY:
            continue
        if key == "hba_file":
            line = f"hba_file = '{member.work}/pg_hba.conf'"
        elif key == "unix_socket_directories":
            line = f"unix_socket_directories = '{member.socket_dir}'"
        elif key == "archive_command":
            assert line == "archive_command = 'pgbackrest --stanza=ssas archive-push %p'", line
            line = line.replace("pgbackrest ", f"pgbackrest --config={pgbackrest_conf} ")
        out.append(line)
    assert "archive_mode = on" in out, f"{member.name} does not archive when it leads"
    out += [f"{key} = '{value}'" for key, value in SMALL_MEMORY.items()]
    return "\n".join(out) + "\n"


def relocate_repository(text: str, members: list[Member], root: Path) -> str:
    """The backup host's rendered pgbackrest.conf with a local repository and the stanza
    `ssas`'s pg1..pgN as the local members (matched by their rendered addresses, in order)."""
    by_address = {m.address: m for m in members}
    out, current, section = [], None, None
    for line in text.splitlines():
        if line.startswith("["):
            section = line
        if section not in (None, "[global]", "[ssas]"):
            continue  # the shards' stanzas: other servers
        key, _, value = line.partition("=")
        number = re.match(r"pg(\d+)-", key)
        if key == "repo1-path":
            line = f"repo1-path={root / 'repo'}"
        elif key == "log-path":
            line = f"log-path={root / 'log'}"
        elif number and key.endswith("-host"):
            current = by_address[value]
        if number and current is not None:
            pg = f"pg{number.group(1)}"
            if key == f"{pg}-path":
                line = f"{pg}-path={current.work / 'data'}"
            elif key == f"{pg}-port":
                line = f"{pg}-port={current.pg_port}"
            elif key == f"{pg}-socket-path":
                line = f"{pg}-socket-path={current.socket_dir}"
        if not REMOTE_PG.match(line):
            out.append(line)
    return "\n".join(out) + "\n"


def relocate_database_side(text: str, member: Member, repository: str) -> str:
    """A member's rendered pgbackrest.conf (archive-push's) with the local repository in place
    of repo1-host: its path and key as the relocated repository configuration has them."""
    repo = [line for line in repository.splitlines()
            if line.startswith(("repo1-path=", "repo1-cipher-type=", "repo1-cipher-pass=",
                                "log-path="))]
    out = []
    for line in text.splitlines():
        if line.startswith(("repo1-host", "log-path=")):
            continue
        if line == "[global]":
            out += [line, *repo]
            continue
        if line.startswith("pg1-path="):
            line = f"pg1-path={member.work / 'data'}"
        elif line.startswith("pg1-port="):
            line = f"pg1-port={member.pg_port}"
        elif line.startswith("pg1-socket-path="):
            line = f"pg1-socket-path={member.socket_dir}"
        out.append(line)
    return "\n".join(out) + "\n"


def pgbackrest(cluster: Cluster, *args: str, timeout: int = 180) -> str:
    """pgBackRest as postgres with the local repository's configuration (stanza ssas)."""
    result = subprocess.run(["runuser", "-u", "postgres", "--", "pgbackrest",
                             f"--config={cluster.pgbackrest_conf}", "--stanza=ssas",
                             "--log-level-console=warn", *args],
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"pgbackrest {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def backups_taken(cluster: Cluster) -> list[tuple[str, int]]:
    """(type, timeline of its first WAL segment) of each backup in the repository, oldest
    first: the timeline tells which leader a backup was taken from (each promotion starts
    a new one; the members share one system identifier)."""
    info = json.loads(pgbackrest(cluster, "--output=json", "info"))[0]
    return [(b["type"], int(b["archive"]["start"][:8], 16)) for b in info["backup"]]


def relocate_hba(text: str, members: list[Member]) -> str:
    for member in members:
        text = text.replace(f"{member.address}/32", "127.0.0.1/32")
    return text


# Where the rendered cluster TLS files go in a member's work directory.
TLS_FILES = {TLS_CA_FILE: "ca.pem", TLS_CERT_FILE: "member.pem", TLS_KEY_FILE: "member.key"}


def write_tls(files: dict[str, str], member: Member) -> None:
    (member.work / "tls").mkdir(exist_ok=True)
    for dest, name in TLS_FILES.items():
        Path(member.tls(name)).write_text(files[dest])
    Path(member.tls("member.key")).chmod(0o600)


def relocate_patroni(text: str, member: Member, members: list[Member]) -> str:
    config = yaml.safe_load(text)
    # The rendered certificates name 127.0.0.1 too, so the checks of the names still apply.
    assert config["etcd3"]["protocol"] == "https"
    for section, keys in (("restapi", ("certfile", "keyfile", "cafile")),
                          ("ctl", ("certfile", "keyfile", "cacert")),
                          ("etcd3", ("cert", "key", "cacert"))):
        for key in keys:
            config[section][key] = member.tls(TLS_FILES[config[section][key]])
    config["restapi"]["listen"] = config["restapi"]["connect_address"] = \
        f"127.0.0.1:{member.api_port}"
    config["etcd3"]["hosts"] = [f"127.0.0.1:{m.etcd_client}" for m in members]
    pg = config["postgresql"]
    pg["listen"] = pg["connect_address"] = f"127.0.0.1:{member.pg_port}"
    pg["data_dir"] = str(member.work / "data")
    pg["custom_conf"] = str(member.work / "postgresql.conf")
    pg["pgpass"] = str(member.work / "pgpass")
    pg["parameters"]["unix_socket_directories"] = str(member.socket_dir)
    pg["parameters"]["hba_file"] = str(member.work / "pg_hba.conf")
    config["log"] = {"dir": str(member.work), "level": "INFO"}
    return yaml.safe_dump(config)


def relocate_etcd(text: str, member: Member, members: list[Member]) -> dict[str, str]:
    """The rendered /etc/default/etcd as environment variables, on loopback ports."""
    variables = dict(re.findall(r'(?m)^(ETCD_[A-Z_]+)="([^"]*)"$', text))
    for other in members:
        for field_name, port in (("etcd_peer", 2380), ("etcd_client", 2379)):
            variables = {k: v.replace(f"{other.address}:{port}",
                                      f"127.0.0.1:{getattr(other, field_name)}")
                         for k, v in variables.items()}
    variables["ETCD_LISTEN_CLIENT_URLS"] = f"https://127.0.0.1:{member.etcd_client}"
    variables["ETCD_DATA_DIR"] = str(member.work / "etcd")
    for key, value in variables.items():
        if value in TLS_FILES:
            variables[key] = member.tls(TLS_FILES[value])
    return variables


def tls_context(member: Member, client: bool = False) -> ssl.SSLContext:
    """Trusts only the cluster CA; presents the member's certificate when `client`."""
    context = ssl.create_default_context(cafile=member.tls("ca.pem"))
    if client:
        context.load_cert_chain(member.tls("member.pem"), member.tls("member.key"))
    return context


def api(member: Member, path: str, timeout: float = 2.0) -> dict:
    with urllib.request.urlopen(f"https://127.0.0.1:{member.api_port}{path}",
                                timeout=timeout, context=tls_context(member)) as response:
        return json.loads(response.read())


def sql(member: Member, query: str, *, dsn: str | None = None) -> str:
    target = dsn or f"host={member.socket_dir} port={member.pg_port} dbname=postgres"
    result = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "psql"), target,
                             "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", query],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, f"{member.name}: {query}: {result.stderr}"
    return result.stdout.strip()


def wait_for(what: str, check, timeout: float, cluster: Cluster):
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, ValueError, AssertionError, subprocess.SubprocessError) as exc:
            last = exc
        time.sleep(0.5)
    logs = "\n".join(f"--- {m.name} {p.name}\n{p.read_text()[-2000:]}"
                     for m in cluster.members for p in m.work.glob("*.log"))
    raise AssertionError(f"timed out waiting for {what}: {last}\n{logs}")


def start_patroni(member: Member) -> None:
    log = (member.work / "patroni-stdout.log").open("ab")
    member.processes["patroni"] = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", "patroni", str(member.work / "patroni.yml")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def cluster_state(member: Member) -> dict[str, dict]:
    """Member name -> {role, state, lag} from Patroni's /cluster on `member`."""
    return {m["name"]: m for m in api(member, "/cluster")["members"]}


@pytest.fixture(scope="module")
def cluster():
    need("patroni", "etcd", "pgbackrest", str(PG_BIN / "postgres"), "runuser")
    profile = load_profile("very-large")
    deployment = build(profile, private_addresses(profile))
    values = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    root = Path(tempfile.mkdtemp(prefix="ssas-patroni-"))
    shutil.chown(root, "postgres", "postgres")
    members = []
    for host in patroni_members(deployment.topology):
        work = root / host.name
        (work / "run").mkdir(parents=True)
        members.append(Member(host.name, host.address, free_port(), free_port(), free_port(),
                              free_port(), work))
    state = Cluster(members, deployment, values, root / "pgbackrest.conf")
    try:
        repository = rendered_files(deployment, "backup-1", values)
        state.pgbackrest_conf.write_text(relocate_repository(
            repository["/etc/pgbackrest/pgbackrest.conf"], members, root))
        state.pgbackrest_conf.chmod(0o600)
        for directory in ("repo", "log"):
            (root / directory).mkdir()
        for member in members:
            files = rendered_files(deployment, member.name, values)
            (member.work / "postgresql.conf").write_text(relocate_postgresql_conf(
                files["/etc/postgresql/15/main/postgresql.conf"], member))
            (member.work / "pgbackrest.conf").write_text(relocate_database_side(
                files["/etc/pgbackrest/pgbackrest.conf"], member,
                state.pgbackrest_conf.read_text()))
            (member.work / "pgbackrest.conf").chmod(0o600)
            (member.work / "pg_hba.conf").write_text(relocate_hba(
                files["/etc/postgresql/15/main/pg_hba.conf"], members))
            (member.work / "patroni.yml").write_text(relocate_patroni(
                files["/etc/patroni/config.yml"], member, members))
            (member.work / "patroni.yml").chmod(0o600)
            write_tls(files, member)
        for path in [root, *root.rglob("*")]:
            shutil.chown(path, "postgres", "postgres")
        for member in members:
            files = rendered_files(deployment, member.name, values)
            etcd_env = relocate_etcd(files["/etc/default/etcd"], member, members)
            log = (member.work / "etcd.log").open("ab")
            member.processes["etcd"] = subprocess.Popen(
                ["etcd"], env={**os.environ, **etcd_env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_for("etcd's quorum", lambda: all(
            json.loads(urllib.request.urlopen(
                f"https://127.0.0.1:{m.etcd_client}/health", timeout=2,
                context=tls_context(m, client=True)).read())["health"] == "true"
            for m in members), 60, state)
        for member in members:
            start_patroni(member)
        yield state
    finally:
        for member in members:
            for process in member.processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
        for member in members:
            for process in member.processes.values():
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        subprocess.run(["pkill", "-KILL", "-f", "--", f"-D {root}"], check=False)
        shutil.rmtree(root, ignore_errors=True)


def leader_of(cluster: Cluster, asked: Member) -> Member | None:
    leaders = [name for name, m in cluster_state(asked).items() if m["role"] == "leader"
               and m["state"] == "running"]
    return cluster.by_name(leaders[0]) if leaders else None


def replicas_streaming(cluster: Cluster, leader: Member, count: int) -> bool:
    """`count` members stream from `leader` (a clone's pg_basebackup streams too: not one)."""
    names = ",".join(f"'{m.name}'" for m in cluster.members)
    rows = sql(leader, "select count(*) from pg_stat_replication where state = 'streaming' "
                       f"and application_name in ({names})")
    return int(rows) == count


def test_patroni_bootstraps_a_leader_and_two_streaming_hot_standbys(cluster):
    first = cluster.members[0]
    leader = wait_for("a leader", lambda: leader_of(cluster, first), 120, cluster)
    wait_for("two streaming replicas", lambda: replicas_streaming(cluster, leader, 2), 120,
             cluster)
    primary_settings = cluster.deployment.host_vars["db-1"]["postgresql_settings"]
    expected = patroni_vars(cluster.deployment.sizing,
                            cluster.deployment.topology.by_name("db-1"))
    for member in cluster.members:
        in_recovery = sql(member, "select pg_is_in_recovery()")
        assert in_recovery == ("f" if member is leader else "t"), member.name
        # The settings every member must share: from the DCS, the primary's sizing.
        for name in ("max_connections", "max_worker_processes", "max_wal_senders"):
            assert sql(member, f"show {name}") == str(
                expected["patroni_cluster_parameters"][name]), (member.name, name)
        assert sql(member, "show max_connections") == str(primary_settings["max_connections"])
        # The tuning is the rendered postgresql.conf (custom_conf).
        assert sql(member, "show random_page_cost") == str(
            primary_settings["random_page_cost"])
        # The access rules are the rendered pg_hba.conf, not initdb's: nobody is trusted.
        assert sql(member, "show hba_file") == str(member.work / "pg_hba.conf")
        assert sql(member, "select count(*) from pg_hba_file_rules "
                           "where auth_method = 'trust' or error is not null") == "0"
    # The replicas stream over TLS (hostssl replication in the rendered pg_hba.conf).
    assert sql(leader, "select count(*) from pg_stat_replication r join pg_stat_ssl s "
                       "using (pid) where s.ssl") == "2"
    assert set(CLUSTER_WIDE) >= {"max_connections", "max_worker_processes"}


def test_the_leader_archives_its_wal_and_is_backed_up(cluster):
    leader = leader_of(cluster, cluster.members[0])
    pgbackrest(cluster, "stanza-create")
    # check: a WAL switch on the primary among pg1..pg3, archived by its archive_command.
    pgbackrest(cluster, "check")
    pgbackrest(cluster, "--type=full", "backup")
    timeline = int(sql(leader, "select timeline_id from pg_control_checkpoint()"))
    assert backups_taken(cluster) == [("full", timeline)]


def test_a_commit_returns_only_once_the_synchronous_standby_has_it(cluster):
    assert cluster.deployment.profile.database.synchronous_replication
    first = cluster.members[0]
    leader = leader_of(cluster, first)
    wait_for("a synchronous standby", lambda: any(
        m["role"] == "sync_standby" for m in cluster_state(leader).values()), 60, cluster)
    names = sql(leader, "show synchronous_standby_names")
    assert names, "synchronous_mode: the leader names its synchronous standby"
    sql(leader, "create table acknowledged (id int primary key, note text)")
    sql(leader, "insert into acknowledged select g, md5(g::text) from generate_series(1, 1000) g")
    sync_name = next(n for n, m in cluster_state(leader).items() if m["role"] == "sync_standby")
    sync = cluster.by_name(sync_name)
    # Replayed, not only received: remote_apply is not asked, so wait for replay.
    wait_for("the rows on the synchronous standby",
             lambda: sql(sync, "select count(*) from acknowledged") == "1000", 30, cluster)


def test_a_killed_leader_is_replaced_and_no_acknowledged_write_is_lost(cluster):
    first = cluster.members[0]
    old = leader_of(cluster, first)
    checksum = sql(old, "select md5(string_agg(note, ',' order by id)) from acknowledged")
    # A lost host: Patroni and its PostgreSQL die at once, nothing is handed over.
    os.killpg(old.processes["patroni"].pid, signal.SIGKILL)
    subprocess.run(["pkill", "-KILL", "-f", "--", f"-D {old.work / 'data'}"], check=False)
    old.processes["patroni"].wait(timeout=10)
    killed_at = time.monotonic()
    survivor = next(m for m in cluster.members if m is not old)
    new = wait_for("a new leader", lambda: (lambda found: found if found and found is not old
                                             else None)(leader_of(cluster, survivor)),
                   90, cluster)
    took = time.monotonic() - killed_at
    print(f"\nfailover: {new.name} leads {took:.1f} s after {old.name} was killed "
          f"(ttl 30 s, loop_wait 10 s)")
    assert sql(new, "select md5(string_agg(note, ',' order by id)) from acknowledged") \
        == checksum
    assert sql(new, "select count(*) from acknowledged") == "1000"
    # The app's stable endpoint: libpq tries every member and keeps the writable one.
    dsn = (f"host={','.join(str(m.socket_dir) for m in cluster.members)} "
           f"port={','.join(str(m.pg_port) for m in cluster.members)} dbname=postgres "
           f"target_session_attrs=read-write connect_timeout=3")
    wait_for("a writable endpoint", lambda: sql(
        new, "insert into acknowledged values (1001, 'after failover') returning id",
        dsn=dsn) == "1001", 60, cluster)


def test_the_new_leader_archives_and_the_next_backup_is_taken_from_it(cluster):
    old = next(m for m in cluster.members if m.processes["patroni"].poll() is not None)
    new = leader_of(cluster, next(m for m in cluster.members if m is not old))
    # The promoted member archives (its own archive_command, archive_mode = on): check
    # switches a WAL segment on the primary it finds, the new one, and waits for it.
    pgbackrest(cluster, "check")
    archived = sql(new, "select last_archived_wal from pg_stat_archiver")
    assert archived and int(archived[:8], 16) >= 2, f"{new.name} archived {archived!r}"
    # The old leader is down (pgBackRest warns and goes on); the backup comes from the new.
    pgbackrest(cluster, "--type=diff", "backup")
    timeline = int(sql(new, "select timeline_id from pg_control_checkpoint()"))
    [(_, first), diff] = backups_taken(cluster)
    assert diff == ("diff", timeline) and timeline > first, (first, diff, timeline)
    print(f"\nbackups: full from the first leader, diff from {new.name} after the failover "
          f"(WAL {archived} archived by {new.name})")


def test_the_old_leader_comes_back_as_a_replica(cluster):
    old = next(m for m in cluster.members if m.processes["patroni"].poll() is not None)
    leader = leader_of(cluster, next(m for m in cluster.members if m is not old))
    start_patroni(old)
    wait_for(f"{old.name} streaming again",
             lambda: cluster_state(leader).get(old.name, {}).get("state") in ("running",
                                                                             "streaming")
             and replicas_streaming(cluster, leader, 2), 120, cluster)
    assert sql(old, "select pg_is_in_recovery()") == "t"
    # It follows the timeline the new leader started at promotion (rewound onto it).
    timeline = sql(leader, "select timeline_id from pg_control_checkpoint()")
    assert int(timeline) >= 2
    wait_for("the new timeline on the rejoined member", lambda: sql(
        old, "select received_tli from pg_stat_wal_receiver") == timeline, 30, cluster)
    wait_for("the write made after the failover on the rejoined member",
             lambda: sql(old, "select count(*) from acknowledged") == "1001", 60, cluster)
