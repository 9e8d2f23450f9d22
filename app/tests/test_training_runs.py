"""Training runs: recorded with versions and metrics, skipped at night when nothing
changed, started by admins from the API and the admin."""

import pytest
from django.test import Client

from ssas.ml.models import ModelArtifact, TrainingRun
from ssas.ml.tasks import train_models
from ssas.students.models import StudentScore

pytestmark = pytest.mark.django_db


def test_nightly_retrains_only_when_the_scores_changed(school_data):
    first = train_models(trigger="nightly", only_if_changed=True)
    assert first["status"] == "done"
    run = TrainingRun.objects.get()
    assert run.trigger == "nightly" and run.students == 150
    assert set(run.versions) == set(ModelArtifact.objects.values_list("name", flat=True))
    assert 0 < run.metrics["anomaly_detector"]["flagged_share"] < 0.2
    assert train_models(trigger="nightly", only_if_changed=True) == {"status": "unchanged"}
    score = StudentScore.objects.order_by("pk").first()
    score.total_score = 1 if score.total_score > 50 else 99
    score.save()
    assert train_models(trigger="nightly", only_if_changed=True)["status"] == "done"
    assert TrainingRun.objects.count() == 2


def test_too_little_data_is_a_failed_run_not_an_exception(db):
    result = train_models(trigger="nightly", only_if_changed=True)
    run = TrainingRun.objects.get()
    assert result["status"] == run.status == "failed"
    assert "need scores for at least" in run.error


def test_a_manual_run_is_queued_once_and_not_repeated(school_data, admin_client,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/api/models/training/")
    assert response.status_code == 202 and len(callbacks) == 1
    run_id = response.json()["id"]
    train_models(run_id)
    again = train_models(run_id)  # a second delivery of the same task
    assert again == {"run": run_id, "status": "done"}
    assert TrainingRun.objects.get().status == "done"
    assert ModelArtifact.objects.filter(name="peer_analyzer").count() == 1
    listed = admin_client.get("/api/models/training/").json()["results"]
    assert [r["id"] for r in listed] == [run_id]


def test_the_admin_lists_runs_and_retrains_now(admin_user, django_capture_on_commit_callbacks,
                                               school_data):
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/admin/ml/trainingrun/").content.decode()
    assert "Retrain now" in page
    with django_capture_on_commit_callbacks() as callbacks:
        done = browser.post("/admin/ml/trainingrun/retrain/", follow=True)
    assert "Retraining queued" in done.content.decode() and len(callbacks) == 1
    assert TrainingRun.objects.get().requested_by == admin_user.username
