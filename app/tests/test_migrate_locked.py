"""`migrate_locked`: migrate under the deployment-wide migration lock."""

import fcntl
import io
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from ssas.monitoring.migration_lock import MIGRATE_LOCK_KEY, WAITING, sqlite_lock_path

pytestmark = pytest.mark.django_db

NO_MIGRATIONS = "No migrations to apply."
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs SSAS_TEST_DATABASE_URL (PostgreSQL)")


@contextmanager
def held_lock():
    """Hold the migration lock as another deployment would; yields a release function
    that may be called from any thread (and is called again, harmlessly, at exit)."""
    if connection.vendor == "postgresql":
        holder = connections.create_connection("default")
        holder.inc_thread_sharing()
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        released = threading.Event()

        def release():
            if not released.is_set():
                released.set()
                with holder.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])

        try:
            yield release, holder
        finally:
            release()
            holder.close()
    else:
        fd = os.open(sqlite_lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield (lambda: fcntl.flock(fd, fcntl.LOCK_UN)), None
        finally:
            os.close(fd)


def migrate_locked(*args) -> str:
    out = io.StringIO()
    call_command("migrate_locked", "--noinput", *args, stdout=out)
    return out.getvalue()


def test_up_to_date_prints_no_migrations_to_apply_and_did_not_wait():
    out = migrate_locked()
    assert "Migration lock: acquired without waiting." in out
    assert NO_MIGRATIONS in out
    assert "waiting for it" not in out


def test_pending_migrations_are_applied_without_the_no_migrations_line():
    # Forget (in this test's transaction) that monitoring.0001 ran; --fake re-records it.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'monitoring'")
    out = migrate_locked("monitoring", "--fake")
    assert "Applying monitoring.0001_initial... FAKED" in out
    assert NO_MIGRATIONS not in out
    assert NO_MIGRATIONS in migrate_locked()


def test_check_exits_1_with_unapplied_migrations_and_0_when_up_to_date():
    migrate_locked("--check")  # up to date: returns normally (exit status 0)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'monitoring'")
    with pytest.raises(SystemExit) as exit_info:
        migrate_locked("--check")
    assert exit_info.value.code == 1


def test_check_does_not_wait_for_the_lock():
    with held_lock():
        start = time.monotonic()
        out = migrate_locked("--check")
    assert time.monotonic() - start < 10
    assert "Migration lock" not in out


def test_waits_for_the_lock_then_migrates():
    with held_lock() as (release, _):
        timer = threading.Timer(1.0, release)
        timer.start()
        try:
            out = migrate_locked("--lock-timeout", "30")  # bounded: fails after 30 s
        finally:
            timer.cancel()
    assert WAITING in out
    assert "Migration lock: acquired after waiting" in out
    waited = float(out.split("acquired after waiting ")[1].split(" s.")[0])
    assert 0.5 <= waited < 30
    assert NO_MIGRATIONS in out
    assert out.index(WAITING) < out.index("acquired after waiting") < out.index(NO_MIGRATIONS)


def test_gives_up_after_the_lock_timeout_without_migrating():
    with held_lock(), pytest.raises(CommandError, match=r"not acquired within 0\.5 s"):
        migrate_locked("--lock-timeout", "0.5")


@postgresql_only
def test_second_concurrent_invocation_blocks_until_the_first_releases_the_lock():
    """A separate process (as a second rollout would be) blocks on the advisory lock."""
    settings_dict = connection.settings_dict
    url = (f"postgresql://{settings_dict['USER']}@{settings_dict['HOST']}:"
           f"{settings_dict['PORT']}/{settings_dict['NAME']}")  # this test database
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test",
           "SSAS_TEST_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    with held_lock() as (release, holder):
        proc = subprocess.Popen(
            [sys.executable, "-m", "django", "migrate_locked", "--noinput"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while True:  # until the command is queued behind our lock
                with holder.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_locks "
                                   "WHERE locktype = 'advisory' AND NOT granted")
                    if cursor.fetchone()[0]:
                        break
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the command never asked for the lock"
                time.sleep(0.1)
            time.sleep(1.0)
            assert proc.poll() is None, "the command did not wait for the lock"
            release()
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, stderr
    assert WAITING in stdout
    assert "Migration lock: acquired after waiting" in stdout
    assert NO_MIGRATIONS in stdout
