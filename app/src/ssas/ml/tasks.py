"""ML Celery tasks. Names are explicit so routing does not depend on module paths."""

import logging

import numpy as np
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from ssas.sharding.context import school_kwargs, school_task
from ssas.students.models import School

from . import service
from .dataset import load_tensor
from .estimators import MODEL_NAMES, NotEnoughData
from .features import prediction_rows, subject_means
from .models import BatchJob, BatchResult, JobStatus, TrainingRun
from .store import ModelStore
from .training import run_training, train_all

log = logging.getLogger(__name__)


@shared_task(name="ml.tasks.train_models", acks_late=True)
def train_models(run_id: str | None = None, trigger: str = "manual",
                 only_if_changed: bool = False) -> dict:
    """Retrain every model (into TrainingRun `run_id` when given). The nightly beat entry
    passes trigger="nightly", only_if_changed=True. Safe to repeat: a run already finished
    is not trained again."""
    run = None
    if run_id is not None:
        run = TrainingRun.objects.filter(pk=run_id).first()
        if run is None or run.status in (JobStatus.DONE, JobStatus.FAILED):
            return {"run": run_id, "status": getattr(run, "status", "missing")}
    done = run_training(trigger, only_if_changed=only_if_changed, run=run)
    return {"run": str(done.pk), "status": done.status} if done else {"status": "unchanged"}


def start_training(requested_by: str) -> TrainingRun:
    """A pending TrainingRun, its task enqueued once the row is committed."""
    run = TrainingRun.objects.create(trigger=TrainingRun.Trigger.MANUAL,
                                     requested_by=requested_by)
    transaction.on_commit(lambda: train_models.delay(str(run.pk)))
    return run


@shared_task(name="ml.tasks.single_analysis", acks_late=True)
def single_analysis(student_id: int) -> dict:
    """Warm ml_cache with one student's analysis (read-only, so safe to repeat)."""
    return {
        "careers": service.recommend_careers(student_id),
        "prediction": service.predict_performance(student_id),
        "peers": service.find_peers(student_id),
    }


def _analyse(tensor, store: ModelStore) -> list[dict]:
    anomaly = store.load("anomaly_detector")
    predictor = store.load("performance_predictor")
    careers = store.load("career_recommender")
    score, flagged = service.score_anomalies(tensor, anomaly)
    X, index = prediction_rows(tensor.scores, predictor["difficulty"])
    predicted = np.clip(predictor["model"].predict(X), 0, 100) if len(X) else np.array([])
    sums = np.bincount(index[:, 0], weights=predicted, minlength=tensor.n_students)
    counts = np.bincount(index[:, 0], minlength=tensor.n_students)
    z = careers["scaler"].transform(subject_means(tensor.scores, careers["fill"]))
    # No career matches the school's subjects: no top career (health says why).
    best_career = (np.argmax(z @ careers["weights"].T, axis=1) if careers["careers"]
                   else None)
    averages = np.nanmean(tensor.scores.reshape(tensor.n_students, -1), axis=1)
    return [
        {
            "student_id": int(tensor.student_ids[i]),
            "average_score": float(averages[i]),
            "predicted_average": float(sums[i] / counts[i]) if counts[i] else None,
            "anomaly_score": float(score[i]),
            "is_anomaly": bool(flagged[i]),
            "top_career": careers["careers"][best_career[i]] if best_career is not None
            else "",
        }
        for i in range(tensor.n_students)
    ]


@shared_task(name="ml.tasks.batch_analysis", acks_late=True)
@school_task
def batch_analysis(job_id: str) -> dict:
    """Analyse every student of the job's school; results upserted by (job, student)."""
    job = BatchJob.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("batch job %s does not exist; nothing to do", job_id)
        return {"job": job_id, "status": "missing"}
    if job.status == JobStatus.DONE:
        return {"job": job_id, "status": job.status}  # delivered twice: already finished
    BatchJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=timezone.now())
    try:
        store = ModelStore()
        if None in store.current_versions(MODEL_NAMES).values():
            train_all(school_id=job.school_id, store=store)
        # On the subjects the models learnt (all three are fitted on one tensor), as a
        # single student's analysis is: a school that teaches fewer or others still fits.
        subjects = store.load("anomaly_detector")["subjects"]
        tensor = load_tensor(school_id=job.school_id, subjects=subjects)
        rows = _analyse(tensor, store)
        with transaction.atomic():
            BatchResult.objects.bulk_create(
                [BatchResult(job_id=job.pk, **row) for row in rows],
                update_conflicts=True,
                unique_fields=["job", "student"],
                update_fields=["average_score", "predicted_average", "anomaly_score",
                               "is_anomaly", "top_career", "updated_at"],
                batch_size=1000,
            )
            BatchJob.objects.filter(pk=job.pk).update(
                status=JobStatus.DONE, finished_at=timezone.now(), error="",
                total_students=len(rows), processed_students=len(rows),
                anomalies_found=sum(r["is_anomaly"] for r in rows),
            )
    except NotEnoughData as exc:
        BatchJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=str(exc), finished_at=timezone.now())
        return {"job": job_id, "status": JobStatus.FAILED}
    except Exception as exc:
        BatchJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now())
        raise
    return {"job": job_id, "status": JobStatus.DONE, "students": len(rows)}


def start_batch_job(school: School | None, requested_by: str = "") -> BatchJob:
    """A pending BatchJob of `school` (None: every school, unsharded only), its task
    enqueued once the row is committed; sharded, the task carries the school's code."""
    job = BatchJob.objects.create(school=school, requested_by=requested_by)
    kwargs = school_kwargs(school)
    # Enqueue only once the row is committed (on its shard), or the worker may not find it.
    transaction.on_commit(lambda: batch_analysis.delay(str(job.pk), **kwargs),
                          using=job._state.db)
    return job
