"""Object-level limits: a teacher sees the students of their own classes only."""

import pytest
from django.test import Client

from ssas.accounts.models import ClassAssignment
from ssas.ml.service import detect_anomalies
from ssas.students.models import Student

pytestmark = pytest.mark.django_db


@pytest.fixture
def class_9a(school_data, teacher):
    ClassAssignment.objects.create(user=teacher, school_code=school_data.school.code,
                                   class_name="9A")
    return set(Student.objects.filter(class_name="9A").values_list("pk", flat=True))


def test_a_teacher_lists_and_opens_only_their_classes_students(class_9a, teacher_client):
    assert class_9a
    listed = teacher_client.get("/api/students/?page_size=200").json()
    assert {s["id"] for s in listed["results"]} == class_9a
    other = Student.objects.exclude(pk__in=class_9a).first()
    assert teacher_client.get(f"/api/students/{other.pk}/").status_code == 404
    assert teacher_client.get(f"/api/students/{other.pk}/scores/").status_code == 404
    mine = min(class_9a)
    assert teacher_client.get(f"/api/students/{mine}/scores/").status_code == 200


def test_a_teacher_without_classes_sees_no_student(school_data, teacher_client):
    assert teacher_client.get("/api/students/").json()["count"] == 0
    assert teacher_client.get("/api/class-averages/").json()["results"] == []


def test_class_averages_count_only_the_teachers_students(class_9a, teacher_client,
                                                         counsellor_client):
    mine = teacher_client.get("/api/class-averages/").json()["results"]
    everyone = counsellor_client.get("/api/class-averages/").json()["results"]
    assert {row["students"] for row in mine} == {len(class_9a)}
    assert {row["students"] for row in everyone} == {150}


def test_anomalies_and_peers_name_only_visible_students(class_9a, teacher_client, trained):
    flagged = {f["id"] for f in detect_anomalies(None)}
    shown = {row["id"] for row in teacher_client.get("/api/anomalies/").json()["results"]}
    assert shown == flagged & class_9a
    for pk in class_9a:
        peers = teacher_client.get(f"/api/students/{pk}/peers/").json()["peers"]
        assert {p["id"] for p in peers} <= class_9a


def test_reports_are_for_counsellors_and_admins(class_9a, teacher_client, counsellor_client):
    for kind in ("student_list", "class_averages"):
        refused = teacher_client.post("/api/reports/", {"kind": kind}, format="json")
        assert refused.status_code == 403 and "counsellor" in refused.json()["detail"]
    made = counsellor_client.post("/api/reports/", {"kind": "class_averages"}, format="json")
    assert made.status_code == 202
    assert teacher_client.get(f"/api/reports/{made.json()['id']}/").status_code == 404


def test_the_dashboard_says_which_classes(class_9a, teacher):
    browser = Client()
    browser.force_login(teacher)
    page = browser.get("/").content.decode()
    assert 'Your classes: <a href="/schools/test-high/classes/9A/">test-high 9A</a>.' in page
    assert f"<strong>{len(class_9a)}</strong>students" in page
    ClassAssignment.objects.all().delete()
    page = browser.get("/").content.decode()
    assert "No class is assigned to you yet" in page
