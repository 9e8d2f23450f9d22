"""Per-user limits: the ML routes have their own, counted in the shared `throttle` cache."""

import pytest
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from ssas.api.throttles import MLPageThrottle, MLThrottle, UserThrottle
from ssas.ml.models import BatchJob


@pytest.fixture
def tight(monkeypatch, settings):
    settings.CACHES = {**settings.CACHES, "throttle": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}}
    rates = {"ml": "2/min", "user": "1000/hour", "ml_page": "2/min"}
    monkeypatch.setattr(MLThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(MLPageThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserThrottle, "THROTTLE_RATES", rates)
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def test_ml_routes_stop_a_user_at_the_ml_rate(trained, counsellor, counsellor_client, tight):
    assert [counsellor_client.get("/api/anomalies/").status_code for _ in range(3)] == [
        200, 200, 429]
    # Other routes still answer, and the counts are in the shared cache.
    assert counsellor_client.get("/api/students/").status_code == 200
    assert caches["throttle"].get(f"throttle_ml_{counsellor.pk}")


def test_starting_batches_from_the_page_counts_against_the_ml_limit(
        trained, admin_user, tight, django_capture_on_commit_callbacks):
    browser = Client()
    browser.force_login(admin_user)
    with django_capture_on_commit_callbacks():
        statuses = [browser.post("/schools/test-high/batch/") for _ in range(3)]
    assert [r.status_code for r in statuses] == [302, 302, 429]
    refused = statuses[-1]
    assert "Too many analyses started" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert BatchJob.objects.count() == 2
    # The same count as the API's ML routes: the API is now refused too.
    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.get("/api/anomalies/").status_code == 429


def test_pages_that_run_ml_work_count_per_user_and_then_show_without_it(
        trained, admin_user, counsellor, tight):
    """A student's page runs three analyses: past the user's `ml_page` limit the page still
    answers (scores stay readable) but runs none and says why; another user is not affected."""
    from ssas.students.models import Student

    student = Student.objects.filter(class_name="9A").order_by("pk").first()
    browser = Client()
    browser.force_login(admin_user)
    pages = [browser.get(f"/students/{student.pk}/") for _ in range(3)]
    assert [r.status_code for r in pages] == [200, 200, 200]
    assert 'id="prediction"' in pages[1].content.decode()
    paused = pages[2].content.decode()
    assert 'id="prediction"' not in paused and 'id="careers"' not in paused
    assert "You have opened many analyses in the last hour" in paused
    overview = browser.get(f"/schools/{student.school.code}/").content.decode()
    assert "You have opened many analyses in the last hour" in overview
    other = Client()
    other.force_login(counsellor)
    assert 'id="prediction"' in other.get(f"/students/{student.pk}/").content.decode()
