from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Q

from ssas.students.models import StudentScore

GUIDE_INDEXES = [
    ["student", "subject"],
    ["academic_year"],
    ["total_score"],
    ["student", "academic_year", "subject"],
    ["created_at", "total_score"],
    ["subject", "academic_year", "total_score"],
    ["academic_year", "created_at"],
]


def test_score_indexes_match_the_scaling_guide():
    indexes = StudentScore._meta.indexes
    plain = [list(i.fields) for i in indexes if i.condition is None]
    assert plain == GUIDE_INDEXES
    (partial,) = [i for i in indexes if i.condition is not None]
    assert partial.name == "high_scores_idx"
    assert partial.fields == ["total_score"]
    assert partial.condition == Q(total_score__gte=80)


@pytest.mark.django_db
def test_migrations_are_committed():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_partial_index_exists_in_database():
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, StudentScore._meta.db_table)
    assert "high_scores_idx" in constraints
    assert constraints["high_scores_idx"]["index"]


@pytest.mark.django_db
def test_role_groups_created_by_migrate():
    from django.contrib.auth.models import Group

    teachers = Group.objects.get(name="teachers")
    admins = Group.objects.get(name="admins")
    assert teachers.permissions.filter(codename="view_student").exists()
    assert not teachers.permissions.filter(codename="change_student").exists()
    assert admins.permissions.filter(codename="change_student").exists()
