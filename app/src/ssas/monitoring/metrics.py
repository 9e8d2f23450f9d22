"""Prometheus metrics (names from the scaling guide).

Multi-process servers (gunicorn with several workers, Celery prefork): set the
environment variable PROMETHEUS_MULTIPROC_DIR to an empty, writable directory
*before* the processes start (wipe it on service start) and add
``ssas.monitoring.gunicorn_hooks.child_exit`` to the gunicorn config. /metrics then
aggregates all workers; without the variable each process reports only itself.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# `status` is the response's class (2xx, 3xx, 4xx, 5xx): the error rate alert (5xx / all)
# needs it, and five values keep the series count low.
REQUEST_COUNT = Counter("ssas_requests_total", "Total requests",
                        ["method", "endpoint", "status"])
# The default buckets plus 2 s: the guide's p95 thresholds (2 s warning, 5 s critical) are
# bucket bounds, so the alerts compare exact counts, not an interpolation across 1-2.5 s.
REQUEST_LATENCY = Histogram("ssas_request_duration_seconds", "Request latency",
                            buckets=(.005, .01, .025, .05, .075, .1, .25, .5, .75, 1.0, 2.0,
                                     2.5, 5.0, 7.5, 10.0, float("inf")))
# Both gauges are computed from the database at scrape time, so the latest value wins.
ACTIVE_USERS = Gauge("ssas_active_users", "Users seen in the activity window",
                     multiprocess_mode="livemostrecent")
ML_PREDICTIONS = Counter("ssas_ml_predictions_total", "ML predictions", ["model_type"])
ML_LATENCY = Histogram("ssas_ml_latency_seconds", "ML prediction latency", ["model_type"])
ML_ERRORS = Counter("ssas_ml_errors_total", "ML prediction errors", ["model_type"])
DB_CONNECTIONS = Gauge("ssas_db_connections", "Open database connections",
                       multiprocess_mode="livemostrecent")
DB_QUERY_TIME = Histogram("ssas_db_query_duration_seconds", "Database query time")


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
