"""gunicorn hooks for Prometheus multiprocess mode: `from ssas.monitoring.gunicorn_hooks
import child_exit` in gunicorn.conf.py."""

import os


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
