import pytest
from rest_framework.test import APIClient

from ssas.analytics.queries import class_averages
from ssas.ml.models import BatchJob, BatchResult
from ssas.ml.store import ModelStore
from ssas.ml.tasks import batch_analysis
from ssas.reports.models import Report
from ssas.reports.tasks import generate_report
from ssas.students.models import School, Student, StudentScore
from ssas.students.synthetic import generate_school

pytestmark = pytest.mark.django_db


def test_anonymous_is_rejected(school_data):
    client = APIClient()
    for url in ["/api/", "/api/students/", "/api/class-averages/", "/api/anomalies/"]:
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
    assert client.post("/api/analysis/batch/", {}).status_code == 401


def test_user_without_role_is_rejected(school_data):
    from django.contrib.auth.models import User

    client = APIClient()
    client.force_authenticate(User.objects.create_user("nobody"))
    assert client.get("/api/students/").status_code == 403


def test_token_auth_and_no_basic_auth(school_data, teacher):
    # Basic auth would be a password guesser's way round the sign-in rate limit.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic dGVhY2hlcjpwdy1mb3ItdGVzdHMtb25seQ==")
    response = client.get("/api/students/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    token = client.post("/api/auth/token/",
                        {"username": "teacher", "password": "pw-for-tests-only"}).data["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/students/").status_code == 200


def test_student_list_filters_and_pagination(school_data, counsellor_client):
    data = counsellor_client.get("/api/students/").json()
    assert data["count"] == 150 and len(data["results"]) == 50 and data["next"]
    grade9 = counsellor_client.get("/api/students/?grade=9").json()
    assert grade9["count"] == Student.objects.filter(grade=9).count() > 0
    assert {s["grade"] for s in grade9["results"]} == {9}
    by_code = counsellor_client.get("/api/students/?school=test-high").json()
    assert by_code["count"] == 150
    unknown = counsellor_client.get("/api/students/?school=nope")
    assert unknown.status_code == 400 and "no school has id or code 'nope'" in unknown.json()[
        "school"]
    one = Student.objects.order_by("id").first()
    found = counsellor_client.get(f"/api/students/?search={one.student_id}").json()
    assert [s["id"] for s in found["results"]] == [one.pk]
    assert counsellor_client.get("/api/students/?grade=x").status_code == 400


@pytest.mark.parametrize("page_size", [5, 50])
def test_student_list_has_no_n_plus_one(school_data, counsellor_client,
                                        django_assert_num_queries, page_size):
    counsellor_client.get("/api/students/")  # records activity, caches roles on the user
    # count + one page query with the school joined in, whatever the page size
    with django_assert_num_queries(2):
        response = counsellor_client.get(f"/api/students/?page_size={page_size}")
    assert len(response.json()["results"]) == page_size


def test_student_detail_and_scores(school_data, counsellor_client):
    student = Student.objects.order_by("id").first()
    detail = counsellor_client.get(f"/api/students/{student.pk}/").json()
    assert detail["student_id"] == student.student_id and detail["school_code"] == "test-high"
    scores = counsellor_client.get(f"/api/students/{student.pk}/scores/").json()
    assert len(scores) == 33
    assert {s["term"] for s in scores} == {1, 2, 3}
    assert counsellor_client.get("/api/students/999999/").status_code == 404


def test_class_averages_is_one_query(school_data, counsellor_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = class_averages(grade=9)
    assert len(rows) == 11
    assert all(0 < r["average"] < 100 for r in rows)
    counsellor_client.get("/api/class-averages/")
    with django_assert_num_queries(1):  # the aggregate (roles cached by the first call)
        data = counsellor_client.get("/api/class-averages/?grade=9").json()
    assert data["results"] == rows


def test_class_averages_match_python(school_data):
    from statistics import mean

    from ssas.students.models import StudentScore

    scores = StudentScore.objects.filter(subject__code="math").values_list("total_score", flat=True)
    (math,) = [r for r in class_averages() if r["subject"] == "math"]
    assert math["average"] == pytest.approx(float(mean(scores)), abs=0.01)
    assert math["high_scores"] == sum(1 for s in scores if s >= 80)


def test_readers_cannot_write_admins_do(school_data, counsellor_client, admin_client):
    school = School.objects.get()
    new = {"school": school.pk, "student_id": "NEW-1", "first_name": "Ann", "last_name": "Lee",
           "grade": 8, "class_name": "8A", "gender": "F"}
    assert counsellor_client.post("/api/students/", new).status_code == 403
    assert admin_client.post("/api/students/", new).status_code == 201
    student = Student.objects.get(student_id="NEW-1")
    assert admin_client.patch(f"/api/students/{student.pk}/", {"grade": 9}).status_code == 200
    assert counsellor_client.delete(f"/api/students/{student.pk}/").status_code == 403


def test_ml_endpoints_before_and_after_training(school_data, counsellor_client):
    student = Student.objects.order_by("id").first()
    url = f"/api/students/{student.pk}/careers/"
    assert counsellor_client.get(url).status_code == 503
    from ssas.ml.training import train_all

    train_all()
    careers = counsellor_client.get(url).json()
    assert len(careers["recommendations"]) == 3
    peers = counsellor_client.get(f"/api/students/{student.pk}/peers/").json()["peers"]
    assert len(peers) == 5
    prediction = counsellor_client.get(f"/api/students/{student.pk}/prediction/").json()
    assert 0 <= prediction["predicted_average"] <= 100
    anomalies = counsellor_client.get("/api/anomalies/").json()["results"]
    assert anomalies and all("student_id" in a for a in anomalies)


def test_batch_analysis_request_and_poll(school_data, admin_client, counsellor_client,
                                         django_capture_on_commit_callbacks):
    assert counsellor_client.post("/api/analysis/batch/", {}).status_code == 403
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/api/analysis/batch/", {"school": school_data.school.pk})
    assert response.status_code == 202
    assert len(callbacks) == 1  # enqueued only after commit
    job_id = response.json()["job_id"]
    status = counsellor_client.get(response.json()["status_url"]).json()
    assert status["status"] == "pending"

    batch_analysis(job_id)  # what the worker does
    status = counsellor_client.get(f"/api/analysis/batch/{job_id}/").json()
    assert status["status"] == "done"
    assert status["processed_students"] == 150
    assert 0 < status["anomalies_found"] < 30
    assert BatchResult.objects.filter(job_id=job_id).count() == 150


def test_batch_analysis_is_idempotent(school_data):
    job = BatchJob.objects.create(school=school_data.school)
    batch_analysis(str(job.pk))
    first = list(BatchResult.objects.filter(job=job).order_by("student_id")
                 .values_list("student_id", "is_anomaly", "predicted_average"))
    BatchJob.objects.filter(pk=job.pk).update(status="running")  # as after a redelivery
    batch_analysis(str(job.pk))
    second = list(BatchResult.objects.filter(job=job).order_by("student_id")
                  .values_list("student_id", "is_anomaly", "predicted_average"))
    assert first == second and len(second) == 150
    assert batch_analysis("00000000-0000-0000-0000-000000000000")["status"] == "missing"


def test_batch_analysis_of_a_school_with_other_subjects_than_the_models_is_done(trained):
    """The models learnt one set of subjects; a school that teaches fewer (or others) is
    analysed on the models' subjects, as a single student's analysis is."""
    other = generate_school(60, seed=7, school_name="Other Subjects High")
    learnt = ModelStore().load("anomaly_detector")["subjects"]
    # This school does not teach two of the subjects the models learnt.
    StudentScore.objects.filter(student__school=other.school,
                                subject__code__in=learnt[:2]).delete()
    taught = set(StudentScore.objects.filter(student__school=other.school)
                 .values_list("subject__code", flat=True))
    assert taught < set(learnt)  # the case at hand
    job = BatchJob.objects.create(school=other.school)
    result = batch_analysis(str(job.pk))
    job.refresh_from_db()
    assert result["status"] == "done", job.error
    assert BatchResult.objects.filter(job=job).count() == 60


def test_batch_analysis_of_empty_school_fails_cleanly(db):
    job = BatchJob.objects.create(school=School.objects.create(code="empty", name="Empty"))
    assert batch_analysis(str(job.pk))["status"] == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "at least" in job.error


def test_report_request_poll_and_download(school_data, counsellor_client,
                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = counsellor_client.post("/api/reports/", {"kind": "class_averages"},
                                       format="json")
    assert response.status_code == 202
    report_id = response.json()["id"]
    assert counsellor_client.get(f"/api/reports/{report_id}/download/").status_code == 404
    generate_report(report_id)
    generate_report(report_id)  # a second delivery changes nothing
    assert counsellor_client.get(f"/api/reports/{report_id}/").json()["status"] == "done"
    csv = counsellor_client.get(f"/api/reports/{report_id}/download/")
    lines = csv.content.decode().strip().splitlines()
    assert lines[0] == "grade,subject,average,students,high_scores"
    assert len(lines) == 1 + 6 * 11
    assert Report.objects.get(pk=report_id).row_count == 66


def test_student_list_report(school_data):
    report = Report.objects.create(kind="student_list", school=school_data.school,
                                   params={"grade": 10})
    generate_report(str(report.pk))
    report.refresh_from_db()
    assert report.row_count == Student.objects.filter(grade=10).count()


def test_dashboard_requires_login_and_shows_averages(school_data, counsellor):
    from django.test import Client

    client = Client()
    assert client.get("/").status_code == 302
    client.force_login(counsellor)
    page = client.get("/")
    assert page.status_code == 200
    assert b"Mathematics" in page.content and b"150" in page.content


def test_admin_site_lists_students(school_data, admin_user):
    from django.contrib.auth.models import Permission
    from django.test import Client

    admin_user.user_permissions.add(*Permission.objects.filter(codename="view_student"))
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/students/student/").status_code == 200


def test_every_school_filter_takes_the_code_or_the_id(school_data, counsellor_client,
                                                      admin_client):
    school = school_data.school
    for path in ("/api/students/", "/api/class-averages/"):
        by_id = counsellor_client.get(f"{path}?school={school.pk}")
        by_code = counsellor_client.get(f"{path}?school={school.code}")
        assert by_id.status_code == by_code.status_code == 200, (path, by_code.content)
        assert by_id.json()["results"] == by_code.json()["results"], path
        assert counsellor_client.get(f"{path}?school=nope").status_code == 400, path
    report = admin_client.post("/api/reports/", {"kind": "student_list",
                                                  "school": school.code}, format="json")
    assert report.status_code == 202 and report.json()["school"] == school.pk, report.content
    refused = admin_client.post("/api/reports/", {"kind": "student_list", "school": "nope"},
                                format="json")
    assert refused.status_code == 400 and "nope" in str(refused.json()["school"])
