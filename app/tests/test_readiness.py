"""/monitoring/ready/, /monitoring/live/ and the gunicorn warm-up hook."""

import logging
from unittest import mock

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import OperationalError, load_backend
from django.test import Client

from ssas.ml import store
from ssas.ml.estimators import MODEL_NAMES
from ssas.ml.store import ModelStore
from ssas.monitoring import readiness
from ssas.monitoring.gunicorn_hooks import post_worker_init

pytestmark = pytest.mark.django_db

BROKEN_REDIS = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
}


@pytest.fixture
def unreachable_database(settings, tmp_path):
    """An extra alias `broken`: PostgreSQL on a closed port, or SQLite in a missing dir.

    Its wrapper is registered by hand: an alias known to `connections.settings` before the
    test would be refused by the test case's database isolation.
    """
    default = connections["default"].settings_dict
    if connections["default"].vendor == "postgresql":
        broken = {**default, "HOST": "127.0.0.1", "PORT": "1",
                  "OPTIONS": {**default["OPTIONS"], "connect_timeout": 2}}
    else:
        broken = {**default, "NAME": str(tmp_path / "missing" / "db.sqlite3")}
    settings.DATABASES = {**settings.DATABASES, "broken": broken}
    connections["broken"] = load_backend(broken["ENGINE"]).DatabaseWrapper(broken, "broken")
    yield "broken"
    connections["broken"].close()
    del connections["broken"]


def _loaded_versions() -> dict[str, str]:
    """{model name: version} of the bundles in this process's model cache."""
    return {name: version for (_root, name, version) in store._loaded}


@pytest.fixture
def cold_process():
    """Forget the models this process loaded, as in a freshly started worker."""
    store._loaded.clear()
    store.forget_current_versions()
    yield
    store._loaded.clear()


def test_ready_without_trained_models_is_200(cold_process):
    response = Client().get("/monitoring/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert "reason" not in body
    assert list(body["checks"]) == ["urlconf", "database", "cache", "ml_models"]
    assert all(check["status"] == "ok" for check in body["checks"].values())
    # default and the test settings' two shard databases
    assert body["checks"]["database"]["aliases"] == {
        "default": "ok", "shard_0": "ok", "shard_1": "ok"}
    assert body["checks"]["cache"]["aliases"] == {"default": "ok", "ml_cache": "ok"}
    assert body["checks"]["ml_models"]["models"] == {
        name: {"status": "not_trained", "version": None} for name in MODEL_NAMES}
    assert body["duration_ms"] >= 0
    assert all(check["duration_ms"] >= 0 for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"]


def test_ready_with_trained_models_loads_them_into_the_process(trained, cold_process):
    versions = ModelStore().current_versions(MODEL_NAMES)
    response = Client().get("/monitoring/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["ml_models"]["models"] == {
        name: {"status": "loaded", "version": versions[name]} for name in MODEL_NAMES}
    assert _loaded_versions() == versions


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_ready_is_503_with_the_reason_when_a_database_is_unreachable(unreachable_database):
    response = Client().get("/monitoring/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["status"] == "error"
    assert body["checks"]["database"]["aliases"] == {
        "default": "ok", "shard_0": "ok", "shard_1": "ok",
        "broken": "error: OperationalError"}
    assert body["reason"] == "database 'broken' unreachable (OperationalError)"
    assert "no-cache" in response["Cache-Control"]


def test_ready_is_503_when_the_default_database_is_down(trained, cold_process):
    with mock.patch.object(BaseDatabaseWrapper, "cursor",
                           side_effect=OperationalError("connection refused")):
        response = Client().get("/monitoring/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["reason"].startswith("database 'default' unreachable (OperationalError)")
    assert "ml_models failed (OperationalError)" in body["reason"]
    assert "connection refused" not in response.content.decode()  # no error text leaks
    assert _loaded_versions() == {}


def test_ready_is_503_when_the_caches_are_unreachable(settings):
    settings.CACHES = {"default": BROKEN_REDIS, "ml_cache": BROKEN_REDIS}
    response = Client().get("/monitoring/ready/")
    assert response.status_code == 503
    reason = response.json()["reason"]
    assert reason.startswith("cache 'default' unreachable (")
    assert "cache 'ml_cache' unreachable (" in reason


def test_live_touches_no_database_or_cache(django_assert_num_queries):
    with (django_assert_num_queries(0),
          mock.patch.object(BaseDatabaseWrapper, "cursor",
                            side_effect=OperationalError("connection refused")),
          mock.patch("django.core.cache.backends.locmem.LocMemCache.get") as cache_get,
          mock.patch("django.core.cache.backends.locmem.LocMemCache.set") as cache_set):
        response = Client().get("/monitoring/live/")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert "no-cache" in response["Cache-Control"]
    cache_get.assert_not_called()
    cache_set.assert_not_called()


def test_probes_answer_head_and_refuse_post():
    assert Client().head("/monitoring/live/").status_code == 200
    assert Client().head("/monitoring/ready/").status_code == 200
    assert Client().post("/monitoring/ready/").status_code == 405


def test_probes_are_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/monitoring/live/").status_code == 200
    assert Client().get("/monitoring/ready/").status_code == 200


class FakeWorker:
    def __init__(self):
        self.notify = mock.Mock()


def test_warm_up_hook_loads_models_into_the_process_cache(trained, cold_process, caplog):
    versions = ModelStore().current_versions(MODEL_NAMES)
    store._loaded.clear()
    store.forget_current_versions()
    worker = FakeWorker()
    with caplog.at_level(logging.INFO, logger="ssas.monitoring.readiness"):
        post_worker_init(worker)
    assert _loaded_versions() == versions
    assert worker.notify.call_count == len(readiness.STEPS)  # keeps gunicorn's timeout at bay
    [record] = [r for r in caplog.records if "warm-up" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("worker warm-up: ready in ")
    assert "ml_models" in record.getMessage()


def test_warm_up_hook_never_raises_when_the_database_is_down(trained, cold_process, caplog):
    with (mock.patch.object(BaseDatabaseWrapper, "cursor",
                            side_effect=OperationalError("connection refused")),
          caplog.at_level(logging.INFO, logger="ssas.monitoring.readiness")):
        post_worker_init(FakeWorker())
    assert _loaded_versions() == {}
    [record] = [r for r in caplog.records if r.getMessage().startswith("worker warm-up:")]
    assert record.levelno == logging.ERROR
    assert "not_ready" in record.getMessage()
    assert "database 'default' unreachable (OperationalError)" in record.getMessage()


def test_warm_up_hook_never_raises_even_when_the_warm_up_itself_crashes(caplog):
    with mock.patch.object(readiness, "warm_up", side_effect=RuntimeError("boom")):
        post_worker_init(object())  # a worker without notify() is fine too
    assert any(r.levelno == logging.ERROR and "warm-up failed" in r.getMessage()
               for r in caplog.records)
