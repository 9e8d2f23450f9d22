import numpy as np
import pytest

from ssas.ml import service
from ssas.ml.dataset import load_tensor
from ssas.ml.estimators import MODEL_NAMES, fit_anomaly_detector, fit_performance_predictor
from ssas.ml.features import prediction_rows
from ssas.ml.store import ModelStore
from ssas.ml.training import NotEnoughData, train_all
from ssas.monitoring.metrics import ML_PREDICTIONS
from ssas.students.models import Student
from ssas.students.synthetic import generate_school


def _subset(tensor, mask):
    from ssas.ml.dataset import ScoreTensor

    return ScoreTensor(tensor.student_ids[mask], tensor.school_ids[mask], tensor.subjects,
                       tensor.scores[mask])


@pytest.mark.django_db
def test_prediction_beats_the_mean_baseline():
    generate_school(400, seed=11, school_name="Predict School")
    tensor = load_tensor()
    train = np.arange(tensor.n_students) % 4 != 0
    bundle = fit_performance_predictor(_subset(tensor, train))
    test = _subset(tensor, ~train)
    history, target = test.scores[:, :, :-1], test.scores[:, :, -1]
    X, index = prediction_rows(history, bundle["difficulty"])
    y = target[index[:, 0], index[:, 1]]
    model_mae = np.abs(bundle["model"].predict(X) - y).mean()
    baseline_mae = np.abs(np.nanmean(tensor.scores[train][:, :, -1]) - y).mean()
    assert model_mae < 0.7 * baseline_mae, (model_mae, baseline_mae)


@pytest.mark.django_db
def test_isolation_forest_flags_injected_anomalies():
    result = generate_school(500, seed=12, school_name="Anomaly School", anomaly_rate=0.04)
    tensor = load_tensor()
    bundle = fit_anomaly_detector(tensor, contamination=0.05)
    _, flagged = service.score_anomalies(tensor, bundle)
    codes = dict(Student.objects.values_list("id", "student_id"))
    injected = set(result.anomalous_student_ids)
    flagged_codes = {codes[int(i)] for i in tensor.student_ids[flagged]}
    precision = len(flagged_codes & injected) / len(flagged_codes)
    recall = len(flagged_codes & injected) / len(injected)
    base_rate = len(injected) / tensor.n_students
    assert precision > 5 * base_rate, (precision, base_rate)
    assert recall > 0.6, recall


@pytest.mark.django_db
def test_store_keeps_versions_and_points_at_current(tmp_path):
    store = ModelStore(tmp_path, keep=2)
    assert store.current_version("m") is None and store.load("m") is None
    versions = [store.save("m", {"value": i}) for i in range(4)]
    assert store.current_version("m") == versions[-1]
    assert store.versions("m") == sorted(versions[-2:])
    assert store.load("m")["value"] == 3
    assert store.load("m")["version"] == versions[-1]


@pytest.mark.django_db
def test_training_needs_data_and_writes_all_models(school_data):
    from django.conf import settings

    health = service.get_system_health()
    assert health["status"] == "degraded"
    assert {m["status"] for m in health["models"].values()} == {"missing"}
    versions = train_all()
    assert set(versions) == set(MODEL_NAMES)
    assert service.get_system_health()["status"] == "healthy"
    version = versions["anomaly_detector"]
    assert (settings.SSAS_ML_MODEL_DIR / "anomaly_detector" / f"{version}.joblib").exists()


@pytest.mark.django_db
def test_training_refuses_an_empty_school():
    with pytest.raises(NotEnoughData):
        train_all()


@pytest.mark.django_db
def test_student_analyses(trained, django_assert_max_num_queries):
    student = Student.objects.order_by("id").first()
    careers = service.recommend_careers(student.pk)
    assert len(careers) == 3
    assert careers[0]["score"] >= careers[1]["score"] >= careers[2]["score"]

    peers = service.find_peers(student.pk, k=4)
    assert len(peers) == 4 and student.pk not in {p["id"] for p in peers}
    assert [p["distance"] for p in peers] == sorted(p["distance"] for p in peers)

    prediction = service.predict_performance(student.pk)
    assert 0 <= prediction["predicted_average"] <= 100
    assert len(prediction["predicted_by_subject"]) == 11

    flagged = service.detect_anomalies()
    assert 0 < len(flagged) < 30


@pytest.mark.django_db
def test_results_are_cached_in_ml_cache(trained, django_assert_num_queries):
    student = Student.objects.order_by("id").first()
    counter = ML_PREDICTIONS.labels(model_type="performance_predictor")
    before = counter._value.get()
    first = service.predict_performance(student.pk)
    with django_assert_num_queries(0):
        assert service.predict_performance(student.pk) == first
    assert counter._value.get() == before + 1


@pytest.mark.django_db
def test_cache_outage_falls_back_to_computing(trained, settings):
    settings.CACHES = {
        **settings.CACHES,
        "ml_cache": {"BACKEND": "django_redis.cache.RedisCache",
                     "LOCATION": "redis://127.0.0.1:1/0",
                     "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2}},
    }
    student = Student.objects.order_by("id").first()
    assert service.predict_performance(student.pk)["predicted_average"] > 0


@pytest.mark.django_db
def test_untrained_model_raises():
    with pytest.raises(service.ModelUnavailable):
        service.recommend_careers(1)
