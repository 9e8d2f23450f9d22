"""A test-only Celery task of the celery_worker scenario (never part of the shipped app).

prepare.yml puts this module on the worker's PYTHONPATH and makes the worker import it with a
drop-in (CELERY_WORKER_INCLUDE, celery worker's --include); the unit file stays the role's.
"""

import os
import time

from celery import shared_task


def _record(log: str, line: str) -> None:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@shared_task(name="ssas_molecule.sleep_and_record", acks_late=True)
def sleep_and_record(log: str, seconds: float, tag: str) -> str:
    """Record each execution's start and completion in LOG, sleeping SECONDS in between."""
    _record(log, f"start {tag} pid={os.getpid()}")
    time.sleep(seconds)
    _record(log, f"done {tag} pid={os.getpid()}")
    return tag
