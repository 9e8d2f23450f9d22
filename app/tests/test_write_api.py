"""Write endpoints for what the import handles: schools, academic years, subjects, scores."""

from decimal import Decimal

import pytest

from ssas.accounts.models import ClassAssignment
from ssas.students.models import Student, StudentScore

pytestmark = pytest.mark.django_db


def test_an_admin_creates_the_objects_a_teacher_may_not(school_data, admin_client,
                                                        teacher_client):
    school = {"code": "west", "name": "West Academy"}
    assert teacher_client.post("/api/schools/", school).status_code == 403
    assert admin_client.post("/api/schools/", school).status_code == 201
    year = {"name": "2030/2031", "start_date": "2030-09-01", "end_date": "2031-07-01"}
    assert admin_client.post("/api/academic-years/", year).status_code == 201
    backwards = {**year, "name": "x", "end_date": "2030-01-01"}
    assert "must be after" in str(admin_client.post("/api/academic-years/", backwards).json())
    assert admin_client.post("/api/subjects/", {"code": "ASTRO", "name": "Astronomy"}
                             ).status_code == 201
    clash = admin_client.post("/api/subjects/", {"code": "astro", "name": "Again"})
    assert clash.status_code == 400 and "ASTRO exists already" in str(clash.json())

    student = Student.objects.order_by("pk").first()
    score = {"student": student.pk, "subject": "ASTRO", "academic_year": "2030/2031",
             "term": 1, "continuous_assessment": "30", "exam_score": "45.5"}
    assert teacher_client.post("/api/scores/", score).status_code == 403
    created = admin_client.post("/api/scores/", score)
    assert created.status_code == 201, created.json()
    assert StudentScore.objects.get(pk=created.json()["id"]).total_score == Decimal("75.50")
    again = admin_client.post("/api/scores/", score)
    assert again.status_code == 400  # one score per student, subject, year and term
    over = admin_client.post("/api/scores/", {**score, "term": 2, "exam_score": "80"})
    assert "over 100" in str(over.json())
    patched = admin_client.patch(f"/api/scores/{created.json()['id']}/", {"total_score": 90})
    assert patched.status_code == 200 and patched.json()["total_score"] == "90.00"


def test_scores_are_filtered_and_narrowed_to_the_teachers_class(school_data, teacher,
                                                                teacher_client,
                                                                counsellor_client):
    ClassAssignment.objects.create(user=teacher, school_code=school_data.school.code,
                                   class_name="10B")
    mine = set(Student.objects.filter(class_name="10B").values_list("pk", flat=True))
    listed = teacher_client.get("/api/scores/?page_size=500&term=1").json()
    assert {row["student"] for row in listed["results"]} == mine
    assert {row["term"] for row in listed["results"]} == {1}
    subject = StudentScore.objects.first().subject.code
    everyone = counsellor_client.get(f"/api/scores/?subject={subject.lower()}&term=2").json()
    assert everyone["count"] == 150
    other = StudentScore.objects.exclude(student__in=mine).first()
    assert teacher_client.get(f"/api/scores/{other.pk}/").status_code == 404
