import os
import subprocess
import sys
import textwrap
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client

from ssas.ml.training import train_all

pytestmark = pytest.mark.django_db

BROKEN_REDIS = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
}


def test_health_is_healthy_with_trained_models(school_data, settings):
    train_all()
    response = Client().get("/monitoring/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    # Every configured database: default and the test settings' two shards.
    assert body["checks"]["database"] == {alias: "ok" for alias in settings.DATABASES}
    assert set(settings.DATABASES) == {"default", "shard_0", "shard_1"}
    assert body["checks"]["cache"] == {"default": "ok", "ml_cache": "ok"}
    assert 0 <= body["checks"]["memory_percent"] <= 100
    assert 0 <= body["checks"]["disk_percent"] <= 100
    assert set(body["checks"]["ml_models"]["models"]) == {
        "career_recommender", "peer_analyzer", "anomaly_detector", "performance_predictor"}
    assert "no-cache" in response["Cache-Control"]


def test_fresh_deploy_without_models_is_degraded_but_200():
    response = Client().get("/monitoring/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["ml_models"]["status"] == "degraded"


def test_cache_outage_is_degraded_but_200(school_data, settings):
    train_all()
    settings.CACHES = {"default": BROKEN_REDIS, "ml_cache": BROKEN_REDIS}
    response = Client().get("/monitoring/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["default"].startswith("error")


def test_database_outage_is_503():
    from django.db.backends.base.base import BaseDatabaseWrapper

    with mock.patch.object(BaseDatabaseWrapper, "cursor",
                           side_effect=OperationalError("connection refused")):
        response = Client().get("/monitoring/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["default"] == "error: OperationalError"


def test_health_is_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/monitoring/health/").status_code == 200
    assert Client().get("/api/").status_code == 301


GUIDE_METRICS = [
    "ssas_requests_total", "ssas_request_duration_seconds", "ssas_active_users",
    "ssas_ml_predictions_total", "ssas_ml_latency_seconds", "ssas_ml_errors_total",
    "ssas_db_connections", "ssas_db_query_duration_seconds",
]


def _sample(text, prefix):
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_exposes_guide_names_and_counts_requests(teacher_client):
    client = Client()
    label = 'ssas_requests_total{endpoint="monitoring/health/",method="GET",status="2xx"}'
    before = _sample(client.get("/metrics").content.decode(), label)
    client.get("/monitoring/health/")
    client.get("/monitoring/health/")
    teacher_client.get("/api/students/")
    text = client.get("/metrics").content.decode()
    for name in GUIDE_METRICS:
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert _sample(text, label) == before + 2
    assert _sample(text, "ssas_active_users ") >= 1
    assert _sample(text, "ssas_db_connections ") >= 1
    assert _sample(text, "ssas_db_query_duration_seconds_count") > 0


def test_unknown_urls_do_not_create_label_values():
    client = Client()
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    text = client.get("/metrics").content.decode()
    assert "no/such" not in text
    assert 'endpoint="<unmatched>"' in text


def test_requests_are_counted_by_status_class():
    """The error-rate alert divides 5xx by all requests: the label is the class, not the code."""
    client = Client()
    health = 'ssas_requests_total{endpoint="monitoring/health/",method="GET",status="5xx"}'
    missing = 'ssas_requests_total{endpoint="<unmatched>",method="GET",status="4xx"}'
    text = client.get("/metrics").content.decode()
    errors, not_found = _sample(text, health), _sample(text, missing)
    from django.db.backends.base.base import BaseDatabaseWrapper

    with mock.patch.object(BaseDatabaseWrapper, "cursor",
                           side_effect=OperationalError("connection refused")):
        assert client.get("/monitoring/health/").status_code == 503
    assert client.get("/no/such/page").status_code == 404
    text = client.get("/metrics").content.decode()
    assert _sample(text, health) == errors + 1
    assert _sample(text, missing) == not_found + 1
    assert 'status="404"' not in text and 'status="503"' not in text


def test_multiprocess_mode_aggregates_processes(tmp_path):
    """Two processes write samples; a third renders their sum, as gunicorn workers do."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "ssas.settings.test"}
    worker = textwrap.dedent("""
        from ssas.monitoring.metrics import ML_PREDICTIONS
        ML_PREDICTIONS.labels(model_type="anomaly_detector").inc(3)
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True)
    render = "from ssas.monitoring.metrics import render; print(render()[0].decode())"
    out = subprocess.run([sys.executable, "-c", render], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert 'ssas_ml_predictions_total{model_type="anomaly_detector"} 6.0' in out
