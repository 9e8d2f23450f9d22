"""Train every model from the school's own data and store new versions; record each
training as a TrainingRun (what asked for it, on which data, versions and metrics)."""

import logging

from django.db.models import Count, Max, Sum
from django.utils import timezone

from ssas.sharding.context import each_shard
from ssas.students.models import StudentScore

from .dataset import load_tensor
from .estimators import FITTERS, NotEnoughData
from .models import JobStatus, TrainingRun
from .store import ModelStore

log = logging.getLogger(__name__)


def train_all(school_id: int | None = None, store: ModelStore | None = None,
              metrics: dict | None = None) -> dict[str, str]:
    """Returns {model name: new version}. Raises NotEnoughData before writing anything.
    `metrics`, when given, is filled with {model name: {metric: value}} and `students`."""
    store = store or ModelStore()
    tensor = load_tensor(school_id=school_id)
    bundles = {name: fit(tensor) for name, fit in FITTERS.items()}  # all or nothing
    versions = {name: store.save(name, bundle) for name, bundle in bundles.items()}
    if metrics is not None:
        metrics.update({name: b.get("metrics", {"students": tensor.n_students})
                        for name, b in bundles.items()}, students=tensor.n_students)
    log.info("trained %d models on %d students: %s", len(versions), tensor.n_students, versions)
    return versions


def data_fingerprint() -> str:
    """`count:newest id:sum of totals` of every score: one aggregate query. A new, removed
    or re-marked score changes it (a re-mark keeping the same sum is the blind spot)."""
    n, newest, total = 0, 0, 0
    for _ in each_shard():  # sharded: every shard's scores (one database otherwise)
        row = StudentScore.objects.aggregate(n=Count("id"), newest=Max("id"),
                                             total=Sum("total_score"))
        n, newest, total = n + row["n"], max(newest, row["newest"] or 0), total + (
            row["total"] or 0)
    return f"{n}:{newest}:{total}"


def run_training(trigger: str, requested_by: str = "", only_if_changed: bool = False,
                 run: TrainingRun | None = None) -> TrainingRun | None:
    """Train and record it in `run` (or a new TrainingRun). With `only_if_changed`, nothing
    happens (None) when the scores are those of the last successful run. Failures
    (not enough data, unwritable model cache) are recorded, not raised."""
    fingerprint = data_fingerprint()
    if only_if_changed:
        last = TrainingRun.objects.filter(status=JobStatus.DONE).order_by("-created_at").first()
        if last is not None and last.data_fingerprint == fingerprint:
            log.info("scores unchanged since the training of %s: not retraining",
                     last.created_at)
            return None
    run = run or TrainingRun.objects.create(trigger=trigger, requested_by=requested_by)
    run.status, run.data_fingerprint = JobStatus.RUNNING, fingerprint
    run.save(update_fields=["status", "data_fingerprint"])
    metrics: dict = {}
    try:
        run.versions = train_all(metrics=metrics)
        run.students = metrics.pop("students", 0)
        run.metrics, run.status = metrics, JobStatus.DONE
    except (NotEnoughData, OSError) as exc:
        run.status, run.error = JobStatus.FAILED, str(exc)
    run.finished_at = timezone.now()
    run.save()
    return run


__all__ = ["NotEnoughData", "data_fingerprint", "run_training", "train_all"]
