"""The app's Redis clients, configured by the rendered Django settings, driven over stdin.

Run by test_sentinel_failover.py with DJANGO_SETTINGS_MODULE=ssas_settings and the rendered
/etc/ssas on PYTHONPATH. Each input line names a probe ("cache" or "broker"); the answer is
one JSON line: {"ok": bool, "seconds": time until the probe passed, "error": last error}.
The clients live as long as the process, so a probe after a failover shows whether the same
connection pools find the new primary, as a running gunicorn or Celery worker must.
"""

import json
import sys
import time
import uuid

import django

django.setup()

from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402
from kombu import Connection  # noqa: E402

RETRY_SECONDS = 30


def probe_cache() -> None:
    """Every cache alias writes a value and reads it back at once, as the health check does."""
    for alias in settings.CACHES:
        key, value = f"sentinel-probe-{uuid.uuid4().hex}", uuid.uuid4().hex
        caches[alias].set(key, value, 60)
        if caches[alias].get(key) != value:
            raise AssertionError(f"{alias}: {key} not read back")


def probe_broker(connection: Connection, app: Celery) -> None:
    """A message through the broker (publish, consume, ack) and a task result stored and read."""
    body = uuid.uuid4().hex
    queue = connection.SimpleQueue("ssas-sentinel-probe")
    try:
        queue.put({"body": body})
        message = queue.get(timeout=5)
        message.ack()
        if message.payload != {"body": body}:
            raise AssertionError(f"unexpected message {message.payload}")
    finally:
        queue.close()
    task_id = uuid.uuid4().hex
    app.backend.store_result(task_id, body, "SUCCESS")
    if app.backend.get_task_meta(task_id)["result"] != body:
        raise AssertionError("result not read back")


def main() -> None:
    """Answer each probe named on stdin, retrying it for up to RETRY_SECONDS."""
    app = Celery("ssas-sentinel-probe")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    connection = Connection(settings.CELERY_BROKER_URL,
                            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    probes = {"cache": probe_cache, "broker": lambda: probe_broker(connection, app)}
    for line in sys.stdin:
        start = time.monotonic()
        error = None
        while time.monotonic() - start < RETRY_SECONDS:
            try:
                probes[line.strip()]()
            except Exception as exc:  # reported to the test, then retried
                error = f"{type(exc).__name__}: {exc}"
                time.sleep(0.1)
                continue
            print(json.dumps({"ok": True, "seconds": time.monotonic() - start, "error": error}),
                  flush=True)
            break
        else:
            print(json.dumps({"ok": False, "seconds": RETRY_SECONDS, "error": error}), flush=True)


if __name__ == "__main__":
    main()
