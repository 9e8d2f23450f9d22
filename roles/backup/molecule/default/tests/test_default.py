"""Verify the backup role on two real (containerised) Debian 12 hosts.

Converge applied the small profile's web-1 variables to the db container (PostgreSQL with
archive_command, media files) and backup-1's to the backup container (the repositories).
These tests prove the backups for real: WAL archiving (`pgbackrest check`), a full backup
listed in the repository, a point-in-time restore that returns exactly the rows written
before the target time, encrypted repositories (no row or file content in plain text), and
media files restored byte-identical from restic.
"""

import json
import os
import time

import testinfra

INSTANCE = os.environ.get("SSAS_MOLECULE_INSTANCE", "ssas-molecule-backup")
DB = testinfra.get_host(f"podman://{INSTANCE}-db")
REPO = testinfra.get_host(f"podman://{INSTANCE}-backup")
DATABASE = "ssas_production"
MARKER = "ssas-molecule-row-marker-9d2f41"
MEDIA_MARKER = "ssas-molecule-media-marker-5c1e9b"
RESTORE_DIR = "/var/lib/postgresql/restore-test"
BIN = "/usr/lib/postgresql/15/bin"


def psql(sql: str, port: int = 5432, database: str = DATABASE, host: str = "/var/run/postgresql") -> str:
    return DB.check_output(f"runuser -u postgres -- psql -XAtq -h {host} -p {port} -d {database} -c \"{sql}\"")


def pgbackrest(*args: str) -> str:
    return REPO.check_output(f"runuser -u pgbackrest -- pgbackrest --stanza=ssas {' '.join(args)}")


def info() -> dict:
    return json.loads(pgbackrest("--output=json", "info"))[0]




def test_wal_archiving_works():
    # `check` forces a WAL switch on the database and waits for it in the repository.
    pgbackrest("check")
    assert psql("SHOW archive_mode") == "on"
    failed = psql("SELECT failed_count FROM pg_stat_archiver")
    archived = int(psql("SELECT archived_count FROM pg_stat_archiver"))
    assert archived >= 1, (archived, failed)


def test_first_full_backup_is_listed():
    backups = info()["backup"]
    assert backups, "no backup in the repository"
    assert backups[0]["type"] == "full"
    assert info()["status"]["message"] == "ok"


def test_repository_is_encrypted():
    assert info()["cipher"] == "aes-256-cbc"
    conf = REPO.file("/etc/pgbackrest/pgbackrest.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "pgbackrest", 0o640)
    # The key is on the backup host only.
    assert "cipher-pass" not in DB.file("/etc/pgbackrest/pgbackrest.conf").content_string


def test_timers_are_scheduled():
    for kind in ("full", "diff"):
        timer = REPO.service(f"ssas-pgbackrest-{kind}-ssas.timer")
        assert timer.is_enabled and timer.is_running
    assert DB.service("ssas-restic-backup.timer").is_enabled


def test_point_in_time_restore_returns_exactly_the_rows_before_the_target():
    psql("CREATE TABLE IF NOT EXISTS drill (id int PRIMARY KEY, note text)")
    psql(f"TRUNCATE drill; INSERT INTO drill SELECT g, '{MARKER}-' || g FROM generate_series(1, 500) g")
    REPO.check_output("systemctl start ssas-pgbackrest-diff-ssas.service")
    psql("INSERT INTO drill SELECT g, 'after-backup' FROM generate_series(501, 600) g")
    before = psql("SELECT md5(string_agg(id || note, ',' ORDER BY id)) FROM drill")
    time.sleep(1.1)
    target = psql("SELECT now()::text")
    time.sleep(1.1)
    psql("INSERT INTO drill SELECT g, 'after-target' FROM generate_series(601, 700) g")
    pgbackrest("check")  # the WAL with the last rows is in the repository

    # Restore beside the live cluster (a restore in place is `ssas-deploy restore`'s job).
    DB.check_output(f"rm -rf {RESTORE_DIR} && install -d -o postgres -g postgres -m 0700 {RESTORE_DIR}")
    DB.check_output(
        f"runuser -u postgres -- pgbackrest --stanza=ssas --pg1-path={RESTORE_DIR} "
        f"--type=time '--target={target}' --target-action=promote restore")
    DB.check_output(
        f"runuser -u postgres -- sh -c 'touch {RESTORE_DIR}/postgresql.conf && "
        f"printf \"local all all peer\\n\" > {RESTORE_DIR}/pg_hba.conf && touch {RESTORE_DIR}/pg_ident.conf'")
    DB.check_output(
        f"runuser -u postgres -- {BIN}/pg_ctl -D {RESTORE_DIR} -w -t 60 -l {RESTORE_DIR}/log start "
        f"-o '-p 5433 -c archive_mode=off -c unix_socket_directories=/tmp -c ssl=off "
        f"-c listen_addresses=\"\" -c shared_buffers=32MB'")
    try:
        for _ in range(60):
            if psql("SELECT pg_is_in_recovery()", port=5433, host="/tmp") == "f":
                break
            time.sleep(0.5)
        restored = psql("SELECT md5(string_agg(id || note, ',' ORDER BY id)) FROM drill", port=5433, host="/tmp")
        count = psql("SELECT count(*) FROM drill", port=5433, host="/tmp")
    finally:
        DB.run(f"runuser -u postgres -- {BIN}/pg_ctl -D {RESTORE_DIR} -m fast stop")
        DB.run(f"rm -rf {RESTORE_DIR}")
    assert count == "600"
    assert restored == before


def test_no_plain_text_rows_in_the_repository():
    found = REPO.run(f"grep -rl -- {MARKER} /var/lib/pgbackrest")
    assert found.rc == 1, found.stdout
    files = REPO.check_output("find /var/lib/pgbackrest/backup /var/lib/pgbackrest/archive -type f | wc -l")
    assert int(files) > 10
    # Compression alone would also hide the marker: every WAL segment is an OpenSSL
    # (aes-256-cbc) envelope, not a zstd frame.
    segment = REPO.check_output("find /var/lib/pgbackrest/archive -type f -name '0000*' | head -1")
    assert REPO.check_output(f"head -c 8 {segment}") == "Salted__"


def test_media_files_restore_byte_identical():
    started = DB.run("systemctl start ssas-restic-backup.service")
    assert started.rc == 0, DB.run("journalctl -u ssas-restic-backup.service -n 40 --no-pager").stdout
    snapshots = json.loads(DB.check_output("/usr/local/sbin/ssas-restic snapshots --json --host web-1"))
    assert snapshots and "/var/lib/ssas/media" in snapshots[-1]["paths"]
    DB.check_output("rm -rf /tmp/media-restore && /usr/local/sbin/ssas-restic restore latest --host web-1 --target /tmp/media-restore")
    original = DB.check_output("sha256sum < /var/lib/ssas/media/reports/term-1.txt")
    restored = DB.check_output("sha256sum < /tmp/media-restore/var/lib/ssas/media/reports/term-1.txt")
    DB.run("rm -rf /tmp/media-restore")
    assert restored == original
    found = REPO.run(f"grep -rl -- {MEDIA_MARKER} /var/lib/ssas-restic")
    assert found.rc == 1, found.stdout
    assert REPO.file("/var/lib/ssas-restic/web-1/config").exists
