import pytest

from ssas.routers import SchoolShardRouter, ShardRoutingError, shard_for_school
from ssas.students.models import School, Student


@pytest.fixture
def shards(settings):
    settings.SSAS_SHARDS = {"north-high": "shard_0", "south-high": "shard_1"}


def test_lookup_table_is_stable(shards):
    assert shard_for_school("north-high") == "shard_0"
    assert shard_for_school("south-high") == "shard_1"
    with pytest.raises(ShardRoutingError):
        shard_for_school("unknown")


def test_sharded_models_need_an_explicit_shard(shards):
    router = SchoolShardRouter()
    with pytest.raises(ShardRoutingError, match="using"):
        router.db_for_read(Student)
    loaded = Student()
    loaded._state.db = "shard_1"
    assert router.db_for_write(Student, instance=loaded) == "shard_1"
    from django.contrib.auth.models import User

    assert router.db_for_read(User) == "default"


def test_migrations_go_to_the_right_databases(shards):
    router = SchoolShardRouter()
    assert router.allow_migrate("shard_0", "students")
    assert not router.allow_migrate("default", "students")
    assert router.allow_migrate("default", "auth")
    assert not router.allow_migrate("shard_1", "auth")
    assert router.allow_migrate("default", "ml", model_name="modelartifact")
    assert not router.allow_migrate("shard_0", "ml", model_name="modelartifact")
    assert router.allow_migrate("shard_0", "ml", model_name="batchjob")


def test_trained_models_are_shared_by_all_shards(shards):
    from ssas.ml.models import ModelArtifact

    router = SchoolShardRouter()
    assert router.db_for_read(ModelArtifact) == "default"
    assert router.db_for_write(ModelArtifact) == "default"


def test_relations_stay_on_one_shard():
    a, b = School(), School()
    a._state.db, b._state.db = "shard_0", "shard_1"
    assert not SchoolShardRouter().allow_relation(a, b)
