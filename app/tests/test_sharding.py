"""School-keyed shards with two real shard databases (shard_0, shard_1 of the test
settings): placement, routing of requests and tasks, district figures, move_school."""

import datetime

import pytest
from celery.exceptions import Retry
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client

from ssas.analytics.queries import class_averages
from ssas.analytics.tasks import _aggregate_day
from ssas.analytics.views import district_counts
from ssas.ml.models import BatchJob, JobStatus
from ssas.ml.tasks import batch_analysis, start_batch_job
from ssas.routers import SchoolShardRouter, is_sharded_model
from ssas.sharding import move
from ssas.sharding.context import MOVE_RETRIES, ShardRoutingError, use_school
from ssas.sharding.freeze import SchoolFrozen, set_freeze
from ssas.sharding.ids import ID_BLOCK
from ssas.sharding.models import SchoolShard
from ssas.sharding.placement import next_shard, place_school
from ssas.students.models import School, Student, StudentScore
from ssas.students.synthetic import generate_school

ALL = pytest.mark.django_db(databases="__all__")
SHARDS = ["shard_0", "shard_1"]


@pytest.fixture
def sharded(settings):
    settings.SSAS_SHARDS = list(SHARDS)
    settings.DATABASE_ROUTERS = ["ssas.routers.SchoolShardRouter"]


@pytest.fixture
def two_schools(sharded, db):
    """North on shard_0 (placed first), South on shard_1 (then the emptiest)."""
    north = generate_school(12, seed=1, school_name="North High")
    south = generate_school(8, seed=2, school_name="South High")
    return north, south


def _count(model, alias, **filters):
    return model._base_manager.using(alias).filter(**filters).count()


@ALL
def test_new_schools_go_to_the_emptiest_shard_and_never_move(sharded, settings):
    assert [place_school(c) for c in ("a", "b", "c")] == ["shard_0", "shard_1", "shard_0"]
    assert place_school("b") == "shard_1"  # placing again keeps the shard
    settings.SSAS_SHARDS = [*SHARDS, "shard_2"]  # a shard is added
    assert next_shard() == "shard_2"
    assert dict(SchoolShard.objects.values_list("code", "alias")) == {
        "a": "shard_0", "b": "shard_1", "c": "shard_0"}


@ALL
def test_ties_go_to_the_first_listed_shard(sharded, settings):
    settings.SSAS_SHARDS = ["shard_1", "shard_0"]
    assert place_school("x") == "shard_1"


@ALL
def test_school_rows_live_on_their_shard_with_disjoint_ids(two_schools):
    assert _count(Student, "shard_0") == 12 and _count(Student, "shard_1") == 8
    assert _count(School, "shard_0", code="south-high") == 0
    assert Student.objects.using("shard_1").order_by("pk").first().pk >= ID_BLOCK
    assert Student.objects.using("shard_0").order_by("-pk").first().pk < ID_BLOCK


@ALL
def test_api_requests_get_their_own_schools_data(two_schools, counsellor_client):
    for code, prefix, n in (("north-high", "NORTH-HI", 12), ("south-high", "SOUTH-HI", 8)):
        body = counsellor_client.get(f"/api/students/?school={code}").json()
        assert body["count"] == n
        assert {r["student_id"].rsplit("-", 1)[0] for r in body["results"]} == {prefix}
    south = Student.objects.using("shard_1").first()
    response = counsellor_client.get(f"/api/students/{south.pk}/",
                                     HTTP_X_SSAS_SCHOOL="south-high")
    assert response.status_code == 200 and response.json()["student_id"] == south.student_id


@ALL
def test_pages_are_routed_by_the_url_school(two_schools, admin_user):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/schools/south-high/")
    assert page.status_code == 200 and page.context["student_count"] == 8


@ALL
def test_school_data_without_a_school_is_a_clear_400(two_schools, counsellor_client):
    response = counsellor_client.get("/api/students/")
    assert response.status_code == 400
    assert "students.Student is sharded by school" in response.json()["detail"]
    assert counsellor_client.get("/api/students/?school=nowhere").status_code == 404
    with pytest.raises(ShardRoutingError, match="students.Student"):
        Student.objects.count()


@ALL
def test_a_task_runs_on_its_schools_shard(two_schools, django_capture_on_commit_callbacks,
                                          monkeypatch):
    sent = []
    monkeypatch.setattr(batch_analysis, "delay", lambda *a, **k: sent.append((a, k)))
    with use_school("south-high"):
        school = School.objects.get(code="south-high")
        with django_capture_on_commit_callbacks(using="shard_1", execute=True):
            job = start_batch_job(school, "tester")
    assert sent == [((str(job.pk),), {"school": "south-high"})]
    result = batch_analysis.apply(args=[str(job.pk)], kwargs={"school": "south-high"}).get()
    assert result["status"] in ("done", "failed")  # ran: no trained models is "failed"
    assert BatchJob.objects.using("shard_1").get(pk=job.pk).status == result["status"]
    assert not BatchJob.objects.using("shard_0").filter(pk=job.pk).exists()
    with pytest.raises(ShardRoutingError):
        batch_analysis.apply(args=[str(job.pk)]).get()


@ALL
def test_a_task_that_meets_a_move_is_retried_after_the_freeze_not_failed(two_schools,
                                                                        monkeypatch):
    with use_school("north-high"):
        job = BatchJob.objects.create(school=School.objects.get(code="north-high"))
    retried = []

    def retry(*, exc, countdown, max_retries):
        retried.append((type(exc).__name__, countdown, max_retries))
        return Retry(exc=exc)

    monkeypatch.setattr(batch_analysis, "retry", retry)
    set_freeze("north-high", 30)
    result = batch_analysis.apply(args=[str(job.pk)], kwargs={"school": "north-high"})
    assert result.state == "RETRY"
    assert len(retried) == 1
    name, countdown, limit = retried[0]
    assert (name, limit) == ("SchoolFrozen", MOVE_RETRIES) and 29 <= countdown <= 30
    # Nothing was written: the job waits on its shard, it is not marked failed.
    assert BatchJob.objects.using("shard_0").get(pk=job.pk).status == JobStatus.PENDING
    # Called directly (not as a task) the refusal is raised as before.
    with pytest.raises(SchoolFrozen):
        batch_analysis(str(job.pk), school="north-high")
    set_freeze("north-high", None)
    done = batch_analysis.apply(args=[str(job.pk)], kwargs={"school": "north-high"}).get()
    assert done["status"] in ("done", "failed")  # ran: no trained models is "failed"
    assert len(retried) == 1


@ALL
def test_district_figures_sum_every_shard(two_schools, counsellor, counsellor_client):
    counts = district_counts(counsellor)
    assert (counts["school_count"], counts["student_count"]) == (2, 20)
    assert counts["score_count"] == sum(_count(StudentScore, a) for a in SHARDS)
    rows = class_averages()
    assert sum(r["scores"] for r in rows) == counts["score_count"]
    per_shard = {}
    for code in ("north-high", "south-high"):
        with use_school(code):
            per_shard[code] = {r["subject"]: r for r in class_averages()}
    for r in rows:
        a, b = per_shard["north-high"][r["subject"]], per_shard["south-high"][r["subject"]]
        expected = (a["average"] * a["scores"] + b["average"] * b["scores"]) / r["scores"]
        assert r["average"] == pytest.approx(expected, abs=0.01)
    api = counsellor_client.get("/api/class-averages/").json()["results"]
    assert api == rows


def _fingerprints(code, alias):
    return {label: move.table_fingerprint(label, alias, code) for label in move.SCHOOL_ROWS}


@ALL
def test_move_school_moves_every_row(two_schools, capsys):
    with use_school("north-high"):  # besides scores: an aggregate and a batch job
        assert _aggregate_day(datetime.date(2025, 1, 31)) == 11
        start_batch_job(School.objects.get(code="north-high"))
    before = _fingerprints("north-high", "shard_0")
    call_command("move_school", "north-high", "--to", "shard_1", "--settle", "0")
    out = capsys.readouterr().out
    assert "north-high is now on shard_1" in out and "MISMATCH" not in out
    assert SchoolShard.objects.get(code="north-high").alias == "shard_1"
    assert _fingerprints("north-high", "shard_1") == before
    assert before["students.studentscore"][0] == 12 * 11 * 3
    assert all(n == 0 for n, _ in _fingerprints("north-high", "shard_0").values())
    assert SchoolShard.objects.get(code="north-high").frozen_until is None
    with use_school("north-high"):
        assert Student.objects.filter(school__code="north-high").count() == 12


@ALL
def test_writes_are_refused_during_the_freeze_reads_go_on(two_schools, admin_client):
    set_freeze("north-high", 60)
    assert admin_client.get("/api/students/?school=north-high").status_code == 200
    response = admin_client.post("/api/schools/?school=north-high", {"code": "x", "name": "X"})
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert "being moved" in response.json()["detail"]
    with use_school("north-high"), pytest.raises(SchoolFrozen):
        Student.objects.filter(grade=7).update(class_name="7Z")
    with use_school("south-high"):  # other schools are not frozen
        assert Student.objects.filter(grade=99).update(class_name="x") == 0


@ALL
def test_a_checksum_mismatch_aborts_and_leaves_the_source_intact(two_schools, monkeypatch):
    before = _fingerprints("north-high", "shard_0")
    real = move.table_fingerprint

    def corrupt(label, alias, code):
        rows, checksum = real(label, alias, code)
        return (rows, "0" * 64) if alias == "shard_1" and label == "students.student" else (
            rows, checksum)

    monkeypatch.setattr(move, "table_fingerprint", corrupt)
    with pytest.raises(CommandError, match="students.student") as failed:
        call_command("move_school", "north-high", "--to", "shard_1", "--settle", "0")
    assert failed.value.returncode == 1
    shard = SchoolShard.objects.get(code="north-high")
    assert (shard.alias, shard.frozen_until) == ("shard_0", None)
    assert _fingerprints("north-high", "shard_0") == before
    assert _count(Student, "shard_1", school__code="north-high") == 0


@ALL
@pytest.mark.parametrize("args, message", [
    (["nowhere", "--to", "shard_1"], "unknown school"),
    (["north-high", "--to", "shard_9"], "unknown shard"),
    (["north-high", "--to", "shard_0"], "already on shard_0"),
])
def test_move_school_refuses_bad_requests(two_schools, args, message):
    with pytest.raises(CommandError, match=message) as refused:
        call_command("move_school", *args)
    assert refused.value.returncode == 2


@ALL
def test_api_created_school_is_placed(sharded, admin_client):
    SchoolShard.objects.create(code="old", alias="shard_0")
    assert admin_client.post("/api/schools/", {"code": "new", "name": "New"}).status_code == 201
    assert SchoolShard.objects.get(code="new").alias == "shard_1"
    assert School.objects.using("shard_1").filter(code="new").exists()
    assert admin_client.post("/api/schools/", {"code": "", "name": "X"}).status_code == 400
    assert not SchoolShard.objects.filter(code="").exists()


def test_every_sharded_model_is_moved_or_reference_data():
    sharded = {m._meta.label_lower for m in apps.get_models() if is_sharded_model(m)}
    assert sharded == set(move.SCHOOL_ROWS) | set(move.REFERENCE)


def test_router_rules(sharded):
    router = SchoolShardRouter()
    assert router.allow_migrate("shard_0", "students")
    assert not router.allow_migrate("default", "students")
    assert router.allow_migrate("default", "auth") and not router.allow_migrate("shard_1",
                                                                                 "auth")
    assert router.allow_migrate("default", "ml", model_name="modelartifact")
    assert not router.allow_migrate("shard_0", "ml", model_name="modelartifact")
    assert router.allow_migrate("shard_0", "ml", model_name="batchjob")
    assert router.allow_migrate("default", "sharding", model_name="schoolshard")
    loaded = Student()
    loaded._state.db = "shard_1"
    assert router.db_for_write(Student, instance=loaded) == "shard_1"


def test_unsharded_router_routes_nothing(settings):
    settings.SSAS_SHARDS = []
    router = SchoolShardRouter()
    assert router.db_for_read(Student) is None
    assert router.allow_migrate("default", "students") is None


@ALL
def test_training_reads_every_shard(two_schools):
    from ssas.ml.training import data_fingerprint, run_training

    assert data_fingerprint().split(":")[0] == str(12 * 33 + 8 * 33)
    run = run_training("manual")
    assert run.status == "done", run.error
    assert run.students == 20


@ALL
def test_school_pages_link_students_with_their_school(two_schools, admin_user):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/schools/south-high/").content.decode()
    student = Student.objects.using("shard_1").order_by("pk").first()
    assert f'/students/{student.pk}/?school=south-high"' in page
    assert client.get(f"/students/{student.pk}/?school=south-high").status_code == 200
    assert client.get(f"/students/{student.pk}/").status_code == 400


@ALL
def test_a_write_through_the_old_shard_after_a_move_is_refused(two_schools):
    from django.test import RequestFactory

    from ssas.sharding.freeze import SchoolMoved
    from ssas.sharding.middleware import ShardMiddleware

    with use_school("north-high") as alias:  # a task that started before the move
        assert alias == "shard_0"
        school_id = School.objects.get(code="north-high").pk
        call_command("move_school", "north-high", "--to", "shard_1", "--settle", "0")
        with pytest.raises(SchoolMoved, match="now lives on shard_1") as moved:
            Student.objects.filter(grade=7).update(class_name="7Z")
        with pytest.raises(SchoolMoved):
            Student.objects.create(school_id=school_id, student_id="late",
                                   first_name="A", last_name="B", grade=7)
    assert _count(Student, "shard_0", school__code="north-high") == 0
    assert _count(Student, "shard_1", school__code="north-high", class_name="7Z") == 0
    response = ShardMiddleware(lambda r: None).process_exception(
        RequestFactory().post("/api/students/?school=north-high"), moved.value)
    assert response.status_code == 503 and b"retry" in response.content
    with use_school("north-high"):  # a new request or task runs on the new shard
        assert Student.objects.filter(grade=99).update(class_name="x") == 0


def _move_with(monkeypatch, step, before):
    """Run move_school with `before(code)` called just before `step` of the module."""
    real = getattr(move, step)

    def wrapped(*args, **kwargs):
        before("north-high")
        return real(*args, **kwargs)

    monkeypatch.setattr(move, step, wrapped)
    with pytest.raises(CommandError) as failed:
        call_command("move_school", "north-high", "--to", "shard_1", "--settle", "0")
    return failed.value


def _assert_rolled_back(expected):
    shard = SchoolShard.objects.get(code="north-high")
    assert (shard.alias, shard.frozen_until) == ("shard_0", None)
    assert _fingerprints("north-high", "shard_0") == expected
    assert all(n == 0 for n, _ in _fingerprints("north-high", "shard_1").values())


@ALL
def test_a_late_write_on_the_source_aborts_the_delete_and_rolls_back(two_schools,
                                                                     monkeypatch):
    school_id = School.objects.using("shard_0").get(code="north-high").pk

    def late_commit(code):  # passed its freeze check before the freeze, commits now
        if _count(Student, "shard_0", student_id="late") == 0:
            Student._base_manager.db_manager("shard_0").create(
                school_id=school_id, student_id="late", first_name="A", last_name="B",
                grade=7)

    # between the verify (end of the copy transaction) and the delete
    error = _move_with(monkeypatch, "_switch_map", late_commit)
    assert error.returncode == 1 and "late" in str(error) and "stays on shard_0" in str(error)
    _assert_rolled_back(_fingerprints("north-high", "shard_0"))
    assert _count(Student, "shard_0", school__code="north-high") == 13


@ALL
def test_the_map_does_not_switch_once_the_freeze_ran_out(two_schools, monkeypatch):
    before = _fingerprints("north-high", "shard_0")

    def expire(code):  # the copy outlasted --freeze-seconds
        SchoolShard.objects.filter(code=code).update(
            frozen_until=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))

    error = _move_with(monkeypatch, "_copy_table", expire)
    assert error.returncode == 1 and "freeze" in str(error)
    _assert_rolled_back(before)
