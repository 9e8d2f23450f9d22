"""The staff pages: school overview, class, student, batch progress; charts vendored."""

import hashlib
import json
import re
from pathlib import Path

import pytest
from django.test import Client

from ssas.accounts.models import ClassAssignment
from ssas.ml.models import BatchJob
from ssas.students.models import Student, StudentScore

pytestmark = pytest.mark.django_db
VENDOR = (Path(__file__).resolve().parents[1] / "src/ssas/analytics/static/ssas/vendor/"
          "chartjs")


def _browser(user):
    client = Client()
    client.force_login(user)
    return client


def _chart(page: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>',
                      page, re.S)
    return json.loads(found.group(1))


def test_the_school_overview_has_its_charts_and_lists(trained, counsellor):
    page = _browser(counsellor).get("/schools/test-high/").content.decode()
    distribution = _chart(page, "distribution-data")
    assert distribution["type"] == "bar" and len(distribution["labels"]) == 10
    assert sum(distribution["datasets"][0]["data"]) == StudentScore.objects.count() > 0
    trend = _chart(page, "trend-data")
    assert trend["type"] == "line" and trend["labels"]
    assert "chart.umd.min.js" in page and "<script>" not in page  # no inline script (CSP)
    assert "High scorers" in page and "/students/" in page
    assert "None flagged." in page or "Anomaly score" in page
    assert "Analyse every student now" not in page  # counsellors read, admins start


def test_a_class_and_a_student_page(trained, counsellor):
    browser = _browser(counsellor)
    student = Student.objects.filter(class_name="9A").order_by("pk").first()
    page = browser.get("/schools/test-high/classes/9A/").content.decode()
    assert _chart(page, "subjects-data")["labels"]
    assert f"/students/{student.pk}/" in page
    page = browser.get(f"/students/{student.pk}/").content.decode()
    over_time = _chart(page, "time-data")
    assert len(over_time["datasets"]) == 11  # one line per subject
    assert re.search(r"Next term's average: <strong>[\d.]+</strong> ± [\d.]+ points", page)
    careers = re.search(r'<ol id="careers">(.*?)</ol>', page, re.S).group(1)
    assert careers.count("<li>") == 3 and "sd against the school" in careers


def test_pages_before_training_say_so(school_data, counsellor):
    student = Student.objects.order_by("pk").first()
    page = _browser(counsellor).get(f"/students/{student.pk}/").content.decode()
    assert page.count("The analysis models are not trained yet.") == 2


def test_a_teacher_sees_only_their_class(school_data, teacher):
    ClassAssignment.objects.create(user=teacher, school_code="test-high", class_name="9A")
    browser = _browser(teacher)
    mine = Student.objects.filter(class_name="9A").first()
    other = Student.objects.exclude(class_name="9A").first()
    assert browser.get(f"/students/{mine.pk}/").status_code == 200
    assert browser.get(f"/students/{other.pk}/").status_code == 404
    assert browser.get(f"/schools/test-high/classes/{other.class_name}/").status_code == 404
    page = browser.get("/schools/test-high/").content.decode()
    count = Student.objects.filter(class_name="9A").count()
    assert f"<strong>{count}</strong>students" in page
    assert browser.post("/schools/test-high/batch/").status_code == 403


def test_an_admin_starts_a_batch_and_watches_it(trained, admin_user,
                                                 django_capture_on_commit_callbacks):
    browser = _browser(admin_user)
    assert "Analyse every student now" in browser.get("/schools/test-high/").content.decode()
    with django_capture_on_commit_callbacks():
        response = browser.post("/schools/test-high/batch/")
    job = BatchJob.objects.get()
    assert response.status_code == 302 and response.url == f"/analysis/batch/{job.pk}/"
    page = browser.get(response.url).content.decode()
    assert f'data-batch-status="/api/analysis/batch/{job.pk}/"' in page
    assert "<progress" in page


def test_the_vendored_chart_library_is_the_documented_file():
    readme = (VENDOR / "README.md").read_text()
    digest = hashlib.sha256((VENDOR / "chart.umd.min.js").read_bytes()).hexdigest()
    assert f"sha256: `{digest}`" in readme
    assert "Permission is hereby granted, free of charge" in (VENDOR / "LICENSE.md").read_text()
