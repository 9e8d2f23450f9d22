"""pgBackRest backup and restore of a generated school, timed, with the settings apply writes.

A throwaway PostgreSQL 15 cluster archives its WAL to a local pgBackRest repository
(aes-256-cbc, zst, process-max 2: what the backup role writes, minus the SSH hop to the
backup host). Steps, each timed: generate a school, full backup, more rows then a
differential backup, drop the data directory, restore to the latest WAL, then to the moment
between the two backups (point in time). After each restore the per-table row counts and
checksums (the app's `table_checksums`) are compared with those taken before. Prints sizes
and seconds; asserts nothing about time. Needs the app in this interpreter (bash
scripts/setup.sh), PostgreSQL 15 server binaries and pgbackrest (Debian packages), root.
Usage: python bench/backup_restore.py [--students 3000]
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from migration import APP, PG_BIN, free_port, manage

STANZA = "bench"


def as_postgres(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ARGS as the postgres account (the owner of the cluster and of the repository)."""
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=check,
                          capture_output=True, text=True)


def timed(*args: str) -> float:
    start = time.perf_counter()
    done = as_postgres(*args, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def write_config(work: Path, data: Path, port: int) -> Path:
    config = work / "pgbackrest.conf"
    config.write_text(
        "[global]\n"
        f"repo1-path={work / 'repo'}\nrepo1-cipher-type=aes-256-cbc\n"
        f"repo1-cipher-pass={secrets.token_urlsafe(32)}\n"
        "compress-type=zst\nprocess-max=2\nstart-fast=y\n"
        f"lock-path={work / 'lock'}\nlog-path={work / 'log'}\nlog-level-console=warn\n"
        f"spool-path={work / 'spool'}\n\n"
        f"[{STANZA}]\npg1-path={data}\npg1-port={port}\npg1-socket-path={work}\n",
        encoding="utf-8")
    config.chmod(0o600)
    shutil.chown(config, "postgres")
    return config


def pg_ctl(data: Path, work: Path, port: int, action: str) -> None:
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(work / "pg.log"), "-w",
                "-t", "120", action, "-o", f"-h 127.0.0.1 -p {port} -k {work}")


def start_and_recover(data: Path, work: Path, port: int) -> float:
    """Start the restored cluster and wait until it has replayed its WAL and left recovery."""
    start = time.perf_counter()
    pg_ctl(data, work, port, "start")
    while as_postgres(str(PG_BIN / "psql"), "-h", str(work), "-p", str(port), "-qAtc",
                      "select pg_is_in_recovery()", check=False).stdout.strip() != "f":
        time.sleep(0.2)
    return time.perf_counter() - start


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def tables(env: dict) -> list[tuple]:
    _, said = manage(env, "table_checksums", "--json")
    return [(t["table"], t["rows"], t["checksum"]) for t in json.loads(said)["tables"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=3000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssas-bench-backup-"))
    os.chmod(work, 0o755)
    for sub in ("repo", "lock", "log", "spool"):
        (work / sub).mkdir()
    shutil.chown(work, "postgres")
    for sub in ("repo", "lock", "log", "spool"):
        shutil.chown(work / sub, "postgres")
    data, port = work / "pg", free_port()
    config = write_config(work, data, port)
    backrest = ["pgbackrest", f"--config={config}", f"--stanza={STANZA}"]
    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                "--no-sync")
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("wal_level = replica\narchive_mode = on\n"
                   f"archive_command = 'pgbackrest --config={config} --stanza={STANZA} "
                   "archive-push %p'\nmax_wal_senders = 3\n")
    pg_ctl(data, work, port, "start")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test",
           "SSAS_DATA_DIR": str(work / "data"), "PYTHONPATH": str(APP / "src"),
           "SSAS_TEST_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres"}
    figures: list[tuple[str, float]] = []
    try:
        manage(env, "migrate", "--noinput", "-v0")
        seconds, _ = manage(env, "generate_school", "--students", str(args.students), "--seed",
                            "1")
        figures.append((f"generate_school --students {args.students}", seconds))
        figures.append(("stanza-create", timed(*backrest, "stanza-create")))
        figures.append(("backup --type=full", timed(*backrest, "--type=full", "backup")))
        full_repo = du(work / "repo")
        first = tables(env)
        time.sleep(1.5)
        target = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
        time.sleep(1.5)
        manage(env, "generate_school", "--students", "200", "--seed", "2",
               "--school", "Second School")
        as_postgres(str(PG_BIN / "psql"), "-h", str(work), "-p", str(port), "-qAtc",
                    "select pg_switch_wal()")
        figures.append(("backup --type=diff (+200 students)",
                        timed(*backrest, "--type=diff", "backup")))
        second = tables(env)
        size = as_postgres(str(PG_BIN / "psql"), "-h", str(work), "-p", str(port), "-qAtc",
                           "select pg_database_size('postgres')").stdout.strip()
        pg_ctl(data, work, port, "stop")
        shutil.rmtree(data)
        figures.append(("restore (latest, empty data dir)", timed(*backrest, "restore")))
        figures.append(("  start, replay WAL, leave recovery", start_and_recover(data, work, port)))
        latest_equal = tables(env) == second
        pg_ctl(data, work, port, "stop")
        figures.append(("restore --delta --type=time (point in time)",
                        timed(*backrest, "--delta", "--type=time", f"--target={target}",
                              "--target-action=promote", "restore")))
        figures.append(("  start, replay WAL, leave recovery", start_and_recover(data, work, port)))
        time_equal = tables(env) == first
        rows = sum(r for _, r, _ in second)
        print(f"school: {args.students} students + 200; {rows} rows in {len(second)} tables; "
              f"database {int(size) / 2**20:.1f} MiB; repository after the full backup "
              f"{full_repo / 2**20:.1f} MiB, after the diff {du(work / 'repo') / 2**20:.1f} MiB "
              "(encrypted, zst, with WAL)")
        for name, seconds in figures:
            print(f"  {name:<48} {seconds:7.1f} s")
        print(f"restore to latest: every table equal to before the loss: {latest_equal}")
        print(f"restore to {target}: every table equal to the first backup's: {time_equal}")
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop",
                    check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
