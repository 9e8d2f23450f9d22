"""Models are shared through the database; each host's SSAS_ML_MODEL_DIR is a cache."""

import io

import joblib
import pytest
from django.core.cache import caches
from django.utils import timezone

from ssas.ml import service, store
from ssas.ml.estimators import MODEL_NAMES
from ssas.ml.models import ModelArtifact
from ssas.ml.store import ModelStore
from ssas.ml.training import train_all
from ssas.students.models import Student

pytestmark = pytest.mark.django_db


def _restart_process():
    """What a fresh process on another host knows: nothing in memory."""
    store.forget_current_versions()
    store._loaded.clear()
    caches["ml_cache"].clear()


def _written_elsewhere(name, version, bundle):
    """A row saved by another process, which this process was not told about."""
    buffer = io.BytesIO()
    joblib.dump({**bundle, "version": version}, buffer)
    ModelArtifact.objects.create(name=name, version=version, payload=buffer.getvalue(),
                                 size=len(buffer.getvalue()), trained_at=timezone.now())


def test_a_model_trained_on_one_host_serves_on_another(school_data, settings, tmp_path):
    student = Student.objects.order_by("id").first()
    settings.SSAS_ML_MODEL_DIR = tmp_path / "web-1"
    versions = train_all()
    on_web_1 = service.predict_performance(student.pk)

    _restart_process()
    settings.SSAS_ML_MODEL_DIR = web_2 = tmp_path / "web-2"
    assert not web_2.exists()
    assert service.get_system_health()["status"] == "healthy"
    assert service.predict_performance(student.pk) == on_web_1
    assert ModelStore().load("performance_predictor")["version"] == versions[
        "performance_predictor"]
    assert (web_2 / "performance_predictor" / f"{versions['performance_predictor']}.joblib"
            ).exists()
    assert {name: ModelStore(web_2).current_version(name) for name in MODEL_NAMES} == versions


def test_second_host_caches_on_first_load_then_reads_its_file(tmp_path,
                                                             django_assert_num_queries):
    version = ModelStore(tmp_path / "worker-1").save("m", {"value": 7})
    _restart_process()
    web_2 = ModelStore(tmp_path / "web-2")
    cached = tmp_path / "web-2" / "m" / f"{version}.joblib"
    assert not cached.exists()
    assert web_2.load("m")["value"] == 7
    assert cached.exists()

    _restart_process()
    with django_assert_num_queries(1):  # the version check only: the bytes come from disk
        assert ModelStore(tmp_path / "web-2").load("m")["value"] == 7


def test_pruning_keeps_the_newest_versions_in_the_database(tmp_path):
    trainer = ModelStore(tmp_path / "a", keep=2)
    versions = [trainer.save("m", {"value": i}) for i in range(4)]
    trainer.save("other", {"value": 0})
    assert ModelArtifact.objects.filter(name="m").count() == 2
    assert trainer.versions("m") == versions[-2:]
    assert ModelArtifact.objects.filter(name="other").count() == 1
    assert sorted(p.stem for p in (tmp_path / "a" / "m").glob("*.joblib")) == versions[-2:]
    assert ModelStore(tmp_path / "b", keep=2).load("m")["value"] == 3


def test_a_newer_version_from_elsewhere_is_seen_after_the_check_interval(tmp_path,
                                                                         monkeypatch):
    web = ModelStore(tmp_path / "web", check_seconds=5)
    old = web.save("m", {"value": 1})
    assert web.load("m")["value"] == 1
    _written_elsewhere("m", old + "-newer", {"value": 2})
    assert web.load("m")["value"] == 1  # still trusted: no query for a few seconds
    now = store.time.monotonic()
    monkeypatch.setattr(store.time, "monotonic", lambda: now + 6)
    assert web.current_version("m") == old + "-newer"
    assert web.load("m")["value"] == 2


def test_a_pruned_remembered_version_falls_back_to_the_newest(tmp_path):
    web = ModelStore(tmp_path / "web", check_seconds=60)
    old = web.save("m", {"value": 1})
    _written_elsewhere("m", old + "-newer", {"value": 2})
    ModelArtifact.objects.filter(version=old).delete()
    store._loaded.clear()
    (tmp_path / "web" / "m" / f"{old}.joblib").unlink()
    assert web.load("m")["value"] == 2


def test_read_only_model_dir_loads_from_the_database(tmp_path):
    version = ModelStore(tmp_path / "trainer").save("m", {"value": 5})
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    _restart_process()
    readonly = ModelStore(blocker / "models")  # mkdir fails, even as root
    assert readonly.load("m") == {"value": 5, "version": version,
                                  "trained_at": readonly.load("m")["trained_at"]}


def test_health_asks_the_database_once_for_all_models(tmp_path, django_assert_num_queries):
    # Untrained: asked every time (so the first training anywhere shows at once), one query.
    for _ in range(2):
        with django_assert_num_queries(1):
            assert service.get_system_health()["status"] == "degraded"
    for name in MODEL_NAMES:
        _written_elsewhere(name, "20260101T000000.000000-abcdef", {"value": 1})
    with django_assert_num_queries(1):
        service.get_system_health()
    with django_assert_num_queries(0):  # found versions are remembered for a few seconds
        service.get_system_health()


def test_a_damaged_cache_file_is_refetched(tmp_path):
    version = ModelStore(tmp_path / "trainer").save("m", {"value": 9})
    cached = tmp_path / "web" / "m" / f"{version}.joblib"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"truncated")
    _restart_process()
    assert ModelStore(tmp_path / "web").load("m")["value"] == 9
    assert joblib.load(cached)["value"] == 9


def test_a_first_model_trained_elsewhere_is_seen_at_once(tmp_path):
    """A web process that saw "not trained yet" must not keep saying so after training."""
    web = ModelStore(tmp_path / "web", check_seconds=60)
    assert web.current_version("m") is None
    _written_elsewhere("m", "20260101T000000.000000-abcdef", {"value": 7})
    assert web.load("m")["value"] == 7
