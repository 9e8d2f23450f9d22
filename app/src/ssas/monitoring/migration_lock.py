"""A deployment-wide lock around schema migrations (used by `migrate_locked`).

PostgreSQL: an advisory lock with the fixed key MIGRATE_LOCK_KEY on the `default`
database, taken with pg_advisory_xact_lock inside a transaction that stays open on a
dedicated connection while `migrate` runs. Transaction scope (not session scope) keeps
it correct behind PgBouncer in transaction pooling mode, and it is released when the
transaction ends or the connection drops (a killed migrate never leaves it behind). It
conflicts with a session lock on the same key, so an operator can hold off migrations
by hand with `SELECT pg_advisory_lock(6004214554249742162);` in psql.

SQLite: an exclusive flock() on `<database file>.migrate-lock`, beside the database.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

# ASCII "SSASMIGR" as a big-endian 64-bit integer. Never change it: two releases that
# disagree on the key would not exclude each other.
MIGRATE_LOCK_KEY = 6004214554249742162
POLL_SECONDS = 0.2

WAITING = "Migration lock: held by another migrate; waiting for it to finish..."


def _no_report(message: str) -> None:
    pass


@contextmanager
def migration_lock(alias: str = DEFAULT_DB_ALIAS, timeout: float | None = None,
                   report: Callable[[str], None] = _no_report) -> Iterator[float]:
    """Hold the migration lock; yields the seconds spent waiting for it (0.0: at once).

    `timeout` None waits as long as it takes; otherwise CommandError after that many
    seconds. `report` receives the "waiting" / "acquired" messages.
    """
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        lock = _postgresql_lock(alias, timeout, report)
    elif vendor == "sqlite":
        lock = _file_lock(sqlite_lock_path(alias), timeout, report)
    else:
        raise CommandError(f"migrate_locked supports PostgreSQL and SQLite, not {vendor}")
    with lock as waited:
        if waited:
            report(f"Migration lock: acquired after waiting {waited:.1f} s.")
        else:
            report("Migration lock: acquired without waiting.")
        yield waited


def _timed_out(timeout: float) -> CommandError:
    return CommandError(f"Migration lock: not acquired within {timeout:g} s "
                        "(another migrate is still running); nothing was migrated.")


@contextmanager
def _postgresql_lock(alias: str, timeout: float | None,
                     report: Callable[[str], None]) -> Iterator[float]:
    conn = connections.create_connection(alias)  # its own session, outside `migrate`'s
    try:
        conn.ensure_connection()
        conn.set_autocommit(False)  # the lock lives as long as this transaction
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [MIGRATE_LOCK_KEY])
            waited = 0.0
            if not cursor.fetchone()[0]:
                if timeout is not None and timeout <= 0:
                    raise _timed_out(timeout)
                report(WAITING)
                start = time.monotonic()
                if timeout is not None:
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)",
                                   [f"{max(1, round(timeout * 1000))}ms"])
                try:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATE_LOCK_KEY])
                except OperationalError as exc:  # lock_timeout expired
                    raise _timed_out(timeout) from exc
                waited = time.monotonic() - start
                if timeout is not None:
                    cursor.execute("SELECT set_config('lock_timeout', '0', true)")
        yield waited
    finally:
        try:
            if conn.connection is not None:
                conn.rollback()  # ends the transaction: releases the lock
        except Exception:  # noqa: BLE001, S110 - closing below releases it as well
            pass
        finally:
            conn.close()


def sqlite_lock_path(alias: str = DEFAULT_DB_ALIAS) -> Path:
    conn = connections[alias]
    name = str(conn.settings_dict["NAME"])
    if conn.creation.is_in_memory_db(name):  # test databases: one per process anyway
        # Per user: another user's lock file in the shared /tmp could not be opened.
        return Path(tempfile.gettempdir()) / f"ssas-memory-{os.getuid()}-{alias}.migrate-lock"
    return Path(name).with_name(Path(name).name + ".migrate-lock")


@contextmanager
def _file_lock(path: Path, timeout: float | None,
               report: Callable[[str], None]) -> Iterator[float]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    try:
        waited = 0.0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if timeout is not None and timeout <= 0:
                raise _timed_out(timeout) from None
            report(WAITING)
            start = time.monotonic()
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() - start >= timeout:
                            raise _timed_out(timeout) from None
                        time.sleep(POLL_SECONDS)
            waited = time.monotonic() - start
        yield waited
    finally:
        os.close(fd)  # releases the flock
