"""End to end through a real Redis broker and a real Celery worker.

Runs only when SSAS_TEST_REDIS_URL is set (tests/run.sh does that).
"""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker

from ssas.celery_app import app
from ssas.ml.models import BatchResult
from ssas.reports.models import Report

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not os.environ.get("SSAS_TEST_REDIS_URL"),
                       reason="SSAS_TEST_REDIS_URL not set"),
    pytest.mark.django_db(transaction=True),  # the worker thread must see committed rows
]
QUEUES = "ml_heavy,ml_fast,reports,analytics,ml_training"


@pytest.fixture
def worker():
    assert app.conf.broker_url.startswith("redis://")
    app.loader.import_default_modules()
    with app.connection_for_write() as conn:  # drop leftovers of earlier test runs
        for queue in QUEUES.split(","):
            conn.default_channel.queue_purge(queue)
    with start_worker(app, pool="solo", queues=QUEUES, perform_ping_check=False,
                      shutdown_timeout=30) as w:
        yield w


def _poll(url, client, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.3)
    pytest.fail(f"{url} still {body['status']} after {timeout}s")


def test_batch_analysis_and_report_through_the_worker(school_data, admin_client, worker):
    response = admin_client.post("/api/analysis/batch/", {"school": school_data.school.pk})
    assert response.status_code == 202
    job = _poll(response.json()["status_url"], admin_client)
    assert job["status"] == "done", job["error"]
    assert job["processed_students"] == 150
    assert BatchResult.objects.filter(job_id=job["id"]).count() == 150

    response = admin_client.post("/api/reports/", {"kind": "student_list"}, format="json")
    report = _poll(response.json()["status_url"], admin_client)
    assert report["status"] == "done"
    assert Report.objects.get(pk=report["id"]).row_count == 150


def test_single_analysis_returns_through_the_broker(trained, worker):
    from ssas.ml.tasks import single_analysis
    from ssas.students.models import Student

    student = Student.objects.order_by("id").first()
    # No result backend is required by the app; wait on the cache the task fills instead.
    single_analysis.delay(student.pk)
    from ssas.ml import service
    from ssas.ml.store import ModelStore

    version = ModelStore().current_version("performance_predictor")
    from django.core.cache import caches

    key = f"predict:{version}:{student.pk}"
    deadline = time.monotonic() + 60
    while caches["ml_cache"].get(key) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert caches["ml_cache"].get(key) == service.predict_performance(student.pk)


def test_an_admin_retrains_through_the_worker(school_data, admin_client, teacher_client,
                                             worker):
    assert teacher_client.post("/api/models/training/").status_code == 403
    response = admin_client.post("/api/models/training/")
    assert response.status_code == 202
    run = _poll(response.json()["status_url"], admin_client, timeout=180)
    assert run["status"] == "done", run["error"]
    assert run["students"] == 150 and set(run["versions"]) == {
        "career_recommender", "peer_analyzer", "anomaly_detector", "performance_predictor"}
    assert run["metrics"]["performance_predictor"]["holdout_mae_points"] > 0


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_batch_that_meets_a_move_freeze_runs_once_the_freeze_is_over(settings, worker):
    from ssas.ml.models import BatchJob, JobStatus
    from ssas.ml.tasks import batch_analysis
    from ssas.sharding.context import use_school
    from ssas.sharding.freeze import set_freeze
    from ssas.students.models import School
    from ssas.students.synthetic import generate_school

    settings.SSAS_SHARDS = ["shard_0", "shard_1"]
    settings.DATABASE_ROUTERS = ["ssas.routers.SchoolShardRouter"]
    generate_school(12, seed=1, school_name="North High")
    with use_school("north-high"):
        job = BatchJob.objects.create(school=School.objects.get(code="north-high"))
    set_freeze("north-high", 3)
    started = time.monotonic()
    batch_analysis.delay(str(job.pk), school="north-high")
    deadline = started + 60
    while time.monotonic() < deadline:
        row = BatchJob.objects.using("shard_0").get(pk=job.pk)
        if row.status in (JobStatus.DONE, JobStatus.FAILED):
            break
        time.sleep(0.3)
    # Refused during the freeze, retried by the worker after it: the job ran to its end
    # (no trained models is "failed" with its own reason, not the freeze's).
    assert row.status in (JobStatus.DONE, JobStatus.FAILED), row.status
    assert "being moved" not in row.error
    assert time.monotonic() - started >= 2
