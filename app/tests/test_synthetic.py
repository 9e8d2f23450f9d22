import time

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from ssas.students.models import School, Student, StudentScore
from ssas.students.synthetic import SUBJECTS, generate_school, simulate_scores


def test_simulation_is_deterministic_and_realistic():
    a, anomalies_a = simulate_scores(np.random.default_rng(5), 500, 0.02)
    b, anomalies_b = simulate_scores(np.random.default_rng(5), 500, 0.02)
    c, _ = simulate_scores(np.random.default_rng(6), 500, 0.02)
    assert np.array_equal(a, b) and np.array_equal(anomalies_a, anomalies_b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0 and a.max() <= 100
    assert 50 < a.mean() < 75
    assert 8 < a.std() < 25
    # Harder subjects (positive difficulty) score lower on average.
    by_subject = a.mean(axis=(0, 2))
    codes = [code for code, *_ in SUBJECTS]
    assert by_subject[codes.index("math")] < by_subject[codes.index("art")]
    assert len(anomalies_a) == 10


@pytest.mark.django_db
def test_same_seed_gives_same_rows():
    def snapshot(name):
        result = generate_school(40, seed=9, school_name=name)
        rows = StudentScore.objects.filter(student__school=result.school).order_by(
            "student__student_id", "subject__code", "term")
        return [(r.student.student_id[-5:], r.subject.code, r.term, r.total_score)
                for r in rows.select_related("student", "subject")]

    assert snapshot("School One") == snapshot("School Two")


@pytest.mark.django_db
def test_command_creates_data_and_refuses_duplicates():
    call_command("generate_school", students=20, seed=1, school="Hill School")
    school = School.objects.get(code="hill-school")
    assert Student.objects.filter(school=school).count() == 20
    assert StudentScore.objects.filter(student__school=school).count() == 20 * len(SUBJECTS) * 3
    with pytest.raises(CommandError, match="already exists"):
        call_command("generate_school", students=20, seed=1, school="Hill School")
    call_command("generate_school", students=5, seed=1, school="Hill School", replace=True)
    assert Student.objects.filter(school__code="hill-school").count() == 5
    with pytest.raises(CommandError):
        call_command("generate_school", students=0)


@pytest.mark.django_db
def test_three_thousand_students_in_under_a_minute():
    """The small-tier target is SQLite; PostgreSQL is covered by the smaller tests."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("timed on SQLite only")
    start = time.perf_counter()
    result = generate_school(3000, seed=3, school_name="Big School")
    elapsed = time.perf_counter() - start
    assert result.students == 3000
    assert elapsed < 60, f"took {elapsed:.1f}s"
