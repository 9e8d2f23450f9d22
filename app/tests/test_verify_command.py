"""`ssas_verify`: the school and teachers of one `ssas-deploy verify` run, made and removed."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from ssas.ml.models import BatchJob
from ssas.students.models import School, Student


def run(*args) -> dict:
    output = io.StringIO()
    call_command("ssas_verify", *args, stdout=output)
    return json.loads(output.getvalue())


def test_setup_gives_teachers_who_see_only_the_verify_school_then_remove_leaves_nothing(
        trained):
    made = run("setup", "ab12", "--users", "3", "--students", "40")
    assert made["school"] == "verify-ab12" and made["students"] == 40
    assert len(made["tokens"]) == 3 and len(set(made["tokens"])) == 3
    assert len(made["student_ids"]) == 40

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {made['tokens'][1]}")
    listed = client.get("/api/students/?page_size=500").json()
    assert listed["count"] == 40  # the verify school's, none of Test High's 150
    student = made["student_ids"][0]
    assert client.get(f"/api/students/{student}/careers/").status_code == 200
    assert client.post("/api/analysis/batch/", {"school": made["school_id"]},
                       format="json").status_code == 403  # a teacher may not start one
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Token {made['batch_token']}")
    accepted = admin.post("/api/analysis/batch/", {"school": made["school_id"]}, format="json")
    assert accepted.status_code == 202, accepted.content

    removed = run("remove", "ab12")
    assert removed["schools_removed"] == 1
    assert not User.objects.filter(username__startswith="verify-ab12-").exists()
    assert not School.objects.filter(code="verify-ab12").exists()
    assert not BatchJob.objects.filter(school_id=made["school_id"]).exists()
    assert Student.objects.count() == 150  # the real school is untouched
    assert run("remove", "ab12")["schools_removed"] == 0  # safe to repeat


def test_setup_refuses_before_the_models_are_trained(school_data):
    with pytest.raises(CommandError, match="not trained yet"):
        run("setup", "cd34", "--users", "1", "--students", "10")
    assert not School.objects.filter(code="verify-cd34").exists()


def test_a_run_id_that_is_not_letters_and_digits_is_refused(db):
    with pytest.raises(CommandError, match="run id"):
        run("remove", "x; drop")


@pytest.mark.django_db(databases="__all__")
def test_on_a_sharded_deployment_the_school_lives_on_one_shard_and_goes_from_it(settings,
                                                                                monkeypatch):
    from ssas.sharding.context import use_school
    from ssas.sharding.models import SchoolShard

    settings.SSAS_SHARDS = ["shard_0", "shard_1"]
    settings.DATABASE_ROUTERS = ["ssas.routers.SchoolShardRouter"]
    # The models' training is not what this test is about: they count as trained.
    monkeypatch.setattr("ssas.ml.store.ModelStore.current_versions",
                        lambda self, names: dict.fromkeys(names, "v1"))
    made = run("setup", "ef56", "--users", "2", "--students", "20")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {made['tokens'][0]}")
    listed = client.get(f"/api/students/?page_size=50&school={made['school']}")
    assert listed.status_code == 200 and listed.json()["count"] == 20
    with use_school(made["school"]) as alias:
        assert Student._base_manager.using(alias).filter(school_id=made["school_id"]).count() \
            == 20
    assert SchoolShard.objects.filter(code=made["school"]).exists()
    assert run("remove", "ef56")["schools_removed"] == 1
    assert not SchoolShard.objects.filter(code=made["school"]).exists()
    assert Student._base_manager.using(alias).filter(school_id=made["school_id"]).count() == 0
    assert not User.objects.filter(username__startswith="verify-ef56-").exists()
