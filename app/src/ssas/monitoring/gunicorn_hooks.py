"""gunicorn hooks, imported from gunicorn.conf.py:

- `child_exit` (master): Prometheus multiprocess mode, drops a dead worker's samples.
- `post_worker_init` (each worker, after it loaded the WSGI app and before it accepts
  requests): runs the readiness warm-up (ssas.monitoring.readiness: URLconf and views,
  database connections, caches, ML models) and logs how long it took. It never raises:
  a failed warm-up is logged and the worker starts anyway (/monitoring/ready/ then
  answers 503 until the cause is fixed).

Import the app lazily, inside the hook, so gunicorn's master never imports the app and
a HUP still loads new code in the new workers.
"""

import logging
import os
import time

log = logging.getLogger("ssas.monitoring.readiness")


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    start = time.perf_counter()
    try:
        from django.apps import apps

        if not apps.ready:  # the WSGI app was not loaded: nothing to warm
            log.error("worker warm-up skipped: Django is not set up in this worker")
            return
        from django.db import connections

        from ssas.monitoring.readiness import READY, summary, warm_up

        body = warm_up(progress=getattr(worker, "notify", None))
        if body["status"] == READY:
            log.info("worker warm-up: %s", summary(body))
        else:
            log.error("worker warm-up: %s", summary(body))
        # This thread does not serve requests under gthread (pool threads do, each with
        # its own connection): do not keep an idle database connection open per worker.
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()
    except Exception:  # noqa: BLE001 - a failed warm-up must never stop the worker
        log.exception("worker warm-up failed after %.0f ms", (time.perf_counter() - start) * 1000)
