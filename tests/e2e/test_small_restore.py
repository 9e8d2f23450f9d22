"""Restore drill on the small sandbox: the database destroyed, then back to the latest
state and to a moment before the last writes, media files byte-identical each time.

A bigger school and a media file -> full backup -> checksums A -> moment T -> more rows and
another media file (with its own media snapshot), the WAL switched and archived ->
checksums B. `restore` without --yes and without a terminal refuses and stops nothing. The
cluster's data directory is deleted (and the media directory): `restore --yes` gives B
back, `restore --at T --yes` gives A back, the site answers after each, and the next backup
on the new timeline works. Leaves the site serving (state A) for the files that follow.
"""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from ssas_deploy.context.backup import PG_DATA
from ssas_deploy.context.paths import MEDIA_ROOT
from ssas_deploy.migration.remote import file_digests, manage, run_on
from ssas_deploy.profiles.models import Role

from .checks import switch_and_archive_wal, table_checksums
from .conftest import VAULT_PASSWORD, cli
from .site_client import Site


def _media(host) -> tuple[dict, str]:
    """sha256 per file, and every entry's owner, group and mode."""
    owners = run_on(host, f"cd {MEDIA_ROOT} && find . -printf '%p %u:%g %m\\n' | sort")
    return file_digests(host, MEDIA_ROOT), owners


def _write_media(host, name: str) -> None:
    run_on(host, f"mkdir -p {MEDIA_ROOT}/reports && head -c 200000 /dev/urandom > "
                 f"{MEDIA_ROOT}/reports/{name} && chown -R --reference={MEDIA_ROOT} "
                 f"{MEDIA_ROOT}/reports")


def _restore(inventory_args: list[str], *extra: str) -> tuple[subprocess.CompletedProcess,
                                                               float]:
    """`ssas-deploy restore` with stdin not a terminal; (result, seconds)."""
    env = {**os.environ, "SSAS_VAULT_PASSWORD": VAULT_PASSWORD, "SSAS_DEPLOY_WIDTH": "160"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "ssas_deploy", "restore", *inventory_args,
                             *extra], capture_output=True, text=True, env=env,
                            stdin=subprocess.DEVNULL, timeout=3600)
    return result, time.monotonic() - started


def _site_answers(site: Site) -> None:
    status, health = site.request("/health/", auth=False)
    assert status == 200 and health["checks"]["database"]["default"] == "ok", health


def _restored(inventory_args: list[str], label: str, *extra: str) -> None:
    """`restore` that must succeed; prints its seconds and output for the CI log."""
    result, seconds = _restore(inventory_args, *extra)
    print(f"restore drill: {label} {seconds:.1f} s\n{result.stderr[-3000:]}\n"
          f"{result.stdout[-5000:]}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_restore_latest_and_to_a_moment(small):
    profile, inventory = small
    args = ["--profile", str(profile), "--inventory", str(inventory)]
    site = Site(profile, inventory)
    web = site.deployment.topology.first(Role.web)
    db = site.deployment.topology.first(Role.database)

    manage(web, "generate_school", "--students", "300", "--seed", "21",
           "--school", "Restore Drill High", "--replace")
    _write_media(web, "before.pdf")
    started = time.monotonic()
    cli("backup", "run", "--type", "full", *args)
    backup_s = time.monotonic() - started
    tables_a, media_a = table_checksums(site), _media(web)
    time.sleep(2)
    moment = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    time.sleep(2)
    manage(web, "generate_school", "--students", "40", "--seed", "22",
           "--school", "Restore Drill Annex", "--replace")
    _write_media(web, "after.pdf")
    run_on(web, f"/usr/local/sbin/ssas-restic backup --quiet --host {web.name} "
                f"--tag ssas-media {MEDIA_ROOT}")
    switch_and_archive_wal(db)
    tables_b, media_b = table_checksums(site), _media(web)
    assert tables_b != tables_a and media_b != media_a

    refused, _ = _restore(args)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "pass --yes" in refused.stderr and "Nothing was changed" in refused.stderr
    active = run_on(web, "systemctl is-active ssas-gunicorn.service "
                         "postgresql@15-main.service || true").split()
    assert active == ["active", "active"], active

    # The disaster: the cluster and the media files are gone.
    run_on(db, f"systemctl stop postgresql@15-main.service && rm -rf {PG_DATA} {MEDIA_ROOT}")

    print(f"\nrestore drill: full backup {backup_s:.1f} s")
    _restored(args, "restore (latest)", "--yes")
    assert table_checksums(site) == tables_b
    assert _media(web) == media_b
    _site_answers(site)

    _restored(args, f"restore --at {moment}", "--at", moment, "--yes")
    assert table_checksums(site) == tables_a
    assert _media(web) == media_a
    _site_answers(site)

    # The new timeline is backed up like the old one.
    started = time.monotonic()
    cli("backup", "run", "--type", "incr", "--no-files", *args)
    print(f"restore drill: incremental backup after the restores "
          f"{time.monotonic() - started:.1f} s")

    # A moment seconds ago on an idle database: restore archives the newest WAL (with a
    # commit after the moment) before it stops anything, so the moment is reachable.
    settled = table_checksums(site)
    time.sleep(2)
    recent = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    time.sleep(2)
    _restored(args, f"restore --at {recent} (seconds ago, idle database)", "--at", recent,
              "--yes")
    assert table_checksums(site) == settled
    _site_answers(site)


def test_handover_reads_the_last_backups_from_the_live_backup_host(small, tmp_path):
    profile, inventory = small
    cli("handover", "--profile", str(profile), "--inventory", str(inventory),
        "--out", str(tmp_path))
    report = (tmp_path / "handover.md").read_text(encoding="utf-8")
    assert "- Last successful database backup: 20" in report, report
    assert "- Last successful media backup: 20" in report, report
    assert "Last successful backup: unknown" not in report
    page = (tmp_path / "handover.html").read_text(encoding="utf-8")
    assert "<table>" in page and "Last successful database backup" in page
