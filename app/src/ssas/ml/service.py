"""The ML layer used by the API and the tasks: lazy model loading, caching, metrics."""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from ssas.monitoring.metrics import ML_ERRORS, ML_LATENCY, ML_PREDICTIONS
from ssas.students.models import Student, Subject

from .cache import cached
from .careers import subject_area
from .dataset import ScoreTensor, load_tensor
from .estimators import MODEL_NAMES
from .features import anomaly_features, prediction_rows, subject_means
from .store import ModelStore


class ModelUnavailable(RuntimeError):
    """The model has not been trained yet (run `ssas-manage train_models`)."""


class NoScores(LookupError):
    """The student has no scores to analyse."""


@contextmanager
def instrumented(model_type: str):
    start = time.perf_counter()
    try:
        yield
    except (ModelUnavailable, NoScores):
        raise  # expected conditions, not model errors
    except Exception:
        ML_ERRORS.labels(model_type=model_type).inc()
        raise
    else:
        ML_PREDICTIONS.labels(model_type=model_type).inc()
    finally:
        ML_LATENCY.labels(model_type=model_type).observe(time.perf_counter() - start)


def _model(name: str, store: ModelStore | None = None) -> dict:
    bundle = (store or ModelStore()).load(name)
    if bundle is None:
        raise ModelUnavailable(f"model {name!r} has not been trained yet")
    return bundle


def _student_tensor(student_id: int, bundle: dict) -> ScoreTensor:
    tensor = load_tensor(student_ids=[student_id], subjects=bundle["subjects"])
    if tensor.n_students == 0:
        raise NoScores(f"student {student_id} has no scores")
    return tensor


def recommend_careers(student_id: int, top: int = 3) -> list[dict]:
    bundle = _model("career_recommender")

    def compute():
        with instrumented("career_recommender"):
            tensor = _student_tensor(student_id, bundle)
            z = bundle["scaler"].transform(subject_means(tensor.scores, bundle["fill"]))[0]
            fit = bundle["weights"] @ z
            order = np.argsort(-fit)[:top]
            return [{"career": bundle["careers"][i], "score": round(float(fit[i]), 3),
                     "reasons": _reasons(bundle, z, i)} for i in order]

    return cached(f"careers:{bundle['version']}:{student_id}:{top}", compute)


def _reasons(bundle: dict, z: np.ndarray, career: int, top: int = 2) -> list[dict]:
    """The subjects that raise a career's fit most: weight x the student's standing in the
    subject (standard deviations from the school's mean), positive ones only."""
    contribution = bundle["weights"][career] * z
    order = [j for j in np.argsort(-contribution)[:top] if contribution[j] > 0]
    return [{"subject": bundle["subjects"][j], "standing_sd": round(float(z[j]), 2),
             "weight": round(float(bundle["weights"][career][j]), 2)} for j in order]


def find_peers(student_id: int, k: int = 5) -> list[dict]:
    bundle = _model("peer_analyzer")

    def compute():
        with instrumented("peer_analyzer"):
            tensor = _student_tensor(student_id, bundle)
            vec = bundle["scaler"].transform(subject_means(tensor.scores, bundle["fill"]))
            dist, idx = bundle["nn"].kneighbors(vec)
            school = tensor.school_ids[0]
            peers = [
                (int(bundle["student_ids"][i]), float(d))
                for d, i in zip(dist[0], idx[0], strict=True)
                if bundle["school_ids"][i] == school and bundle["student_ids"][i] != student_id
            ][:k]
            names = Student.objects.in_bulk([p for p, _ in peers])
            return [
                {"id": pid, "student_id": names[pid].student_id, "name": str(names[pid]),
                 "distance": round(d, 3)}
                for pid, d in peers if pid in names
            ]

    return cached(f"peers:{bundle['version']}:{student_id}:{k}", compute)


def predict_performance(student_id: int) -> dict:
    bundle = _model("performance_predictor")

    def compute():
        with instrumented("performance_predictor"):
            tensor = _student_tensor(student_id, bundle)
            X, index = prediction_rows(tensor.scores, bundle["difficulty"])
            if len(X) == 0:
                raise NoScores(f"student {student_id} has no usable score history")
            predicted = np.clip(bundle["model"].predict(X), 0, 100)
            per_subject = {bundle["subjects"][j]: round(float(p), 1)
                           for (_, j), p in zip(index, predicted, strict=True)}
            return {
                "current_average": round(float(np.nanmean(tensor.scores)), 1),
                "predicted_average": round(float(predicted.mean()), 1),
                "predicted_by_subject": per_subject,
                # The model's mean absolute error on held-out rows at training (score
                # points): the typical distance between a prediction and the real score.
                "uncertainty_points": bundle.get("metrics", {}).get("holdout_mae_points"),
            }

    return cached(f"predict:{bundle['version']}:{student_id}", compute)


def score_anomalies(tensor: ScoreTensor, bundle: dict) -> tuple[np.ndarray, np.ndarray]:
    """(anomaly score: higher = stranger, flagged mask) for every student in the tensor."""
    X = bundle["scaler"].transform(anomaly_features(tensor.scores, bundle["fill"]))
    return -bundle["forest"].score_samples(X), bundle["forest"].predict(X) == -1


def detect_anomalies(school_id: int | None = None) -> list[dict]:
    bundle = _model("anomaly_detector")

    def compute():
        with instrumented("anomaly_detector"):
            tensor = load_tensor(school_id=school_id, subjects=bundle["subjects"])
            if tensor.n_students == 0:
                return []
            score, flagged = score_anomalies(tensor, bundle)
            order = [i for i in np.argsort(-score) if flagged[i]]
            return [{"id": int(tensor.student_ids[i]), "anomaly_score": round(float(score[i]), 3)}
                    for i in order]

    return cached(f"anomalies:{bundle['version']}:{school_id}", compute)


def get_system_health(store: ModelStore | None = None) -> dict:
    """Cheap: one query for the current versions (cached briefly), never loads a model."""
    store = store or ModelStore()
    try:
        versions = store.current_versions(MODEL_NAMES)
    except Exception as exc:  # noqa: BLE001 - the database check reports the outage
        return {"status": "degraded", "error": f"{type(exc).__name__}",
                "models": {name: {"status": "unknown", "version": None} for name in MODEL_NAMES}}
    models = {name: {"status": "ok" if v else "missing", "version": v}
              for name, v in versions.items()}
    status = "healthy" if all(m["status"] == "ok" for m in models.values()) else "degraded"
    result = {"status": status, "models": models}
    try:
        unmatched = careers_unmatched()
    except Exception:  # noqa: BLE001 - the database check reports the outage
        unmatched = None
    if unmatched:
        result.update(status="degraded", careers=unmatched)
    return result


_CAREER_CHECK: dict = {}
CAREER_CHECK_SECONDS = 60.0


def careers_unmatched(now: float | None = None) -> str | None:
    """Why career recommendations would be empty, or None: the school has subjects and
    none of them maps to a career area (careers.subject_area). One small query, remembered
    for CAREER_CHECK_SECONDS per process (health is polled often)."""
    now = time.monotonic() if now is None else now
    if _CAREER_CHECK and 0 <= now - _CAREER_CHECK["at"] < CAREER_CHECK_SECONDS:
        return _CAREER_CHECK["reason"]
    subjects = list(Subject.objects.values_list("code", "name", "career_area")[:500])
    reason = None
    if subjects and not any(subject_area(*subject) for subject in subjects):
        shown = ", ".join(code for code, _, _ in subjects[:8])
        reason = (f"no career profile matches any subject ({shown}"
                  f"{', ...' if len(subjects) > 8 else ''}): career recommendations are empty; "
                  "set each subject's career area in the admin (Subjects), or use common "
                  "names or codes (see ssas.ml.careers)")
    _CAREER_CHECK.update(at=now, reason=reason)
    return reason
