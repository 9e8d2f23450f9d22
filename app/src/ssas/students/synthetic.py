"""Deterministic synthetic school data: same seed, same school.

Score model: per-student ability + per-student subject aptitude - subject difficulty
+ per-student term trend + noise, clipped to 0..100. A few students get injected
anomalies (a collapse in the last term, or a couple of subjects far below their level).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils.text import slugify

from ssas.sharding.context import use_school
from ssas.sharding.placement import place_school

from .models import AcademicYear, School, Student, StudentScore, Subject

SUBJECTS = [  # (code, name, difficulty: points below the student's ability)
    ("math", "Mathematics", 6.0),
    ("english", "English Language", -2.0),
    ("physics", "Physics", 5.0),
    ("chemistry", "Chemistry", 4.0),
    ("biology", "Biology", 1.0),
    ("economics", "Economics", 0.0),
    ("geography", "Geography", -1.0),
    ("history", "History", -1.5),
    ("literature", "Literature", -0.5),
    ("computer-science", "Computer Science", 2.0),
    ("art", "Art", -4.0),
]
FIRST_NAMES = ["Ada", "Amara", "Ben", "Chen", "Chidi", "Dara", "Elena", "Femi", "Grace", "Hana",
               "Ibrahim", "Jonas", "Kemi", "Lena", "Musa", "Nia", "Omar", "Priya", "Quinn",
               "Rosa", "Samir", "Tomi", "Uma", "Victor", "Wale", "Yara", "Zoe"]
LAST_NAMES = ["Adeyemi", "Baker", "Costa", "Diallo", "Evans", "Fischer", "Garcia", "Hassan",
              "Ito", "Johnson", "Kowalski", "Lopez", "Mensah", "Nakamura", "Okafor", "Patel",
              "Rossi", "Silva", "Tanaka", "Usman", "Van Dijk", "Wang", "Yilmaz", "Zulu"]
TERMS = (1, 2, 3)
CA_SHARE = 0.4  # continuous assessment is 40 of the 100 points


@dataclass
class GeneratedSchool:
    school: School
    students: int
    scores: int
    anomalous_student_ids: list[str] = field(default_factory=list)


def _academic_year() -> AcademicYear:
    year, _ = AcademicYear.objects.get_or_create(
        name="2024/2025",
        defaults={"start_date": datetime.date(2024, 9, 1), "end_date": datetime.date(2025, 7, 31),
                  "is_current": True},
    )
    return year


def _subjects() -> list[Subject]:
    out = []
    for code, name, _ in SUBJECTS:
        subject, _ = Subject.objects.get_or_create(code=code, defaults={"name": name})
        out.append(subject)
    return out


def simulate_scores(rng: np.random.Generator, n: int, anomaly_rate: float):
    """Returns scores (n, subjects, terms) and the indices of injected anomalies."""
    s, t = len(SUBJECTS), len(TERMS)
    ability = rng.normal(63, 11, size=(n, 1, 1))
    aptitude = rng.normal(0, 6, size=(n, s, 1))
    difficulty = np.array([d for *_, d in SUBJECTS]).reshape(1, s, 1)
    trend = rng.normal(0, 1.5, size=(n, 1, 1)) * np.arange(t).reshape(1, 1, t)
    noise = rng.normal(0, 5, size=(n, s, t))
    scores = ability + aptitude - difficulty + trend + noise

    n_anomalies = max(1, round(n * anomaly_rate))
    anomalous = rng.choice(n, size=n_anomalies, replace=False)
    for k, i in enumerate(anomalous):
        if k % 2 == 0:  # sudden collapse in the last term
            scores[i, :, -1] -= rng.uniform(35, 50)
        else:  # a few subjects far below the student's level, every term
            picked = rng.choice(s, size=3, replace=False)
            scores[i, picked, :] -= rng.uniform(40, 55)
    return np.clip(np.round(scores, 1), 0, 100), np.sort(anomalous)


def generate_school(n_students: int, seed: int, school_name: str,
                    anomaly_rate: float = 0.02) -> GeneratedSchool:
    """A new school of `n_students` with three terms of scores, in one transaction on the
    school's database (sharded: the shard placement.place_school picks)."""
    code = slugify(school_name)[:40]
    alias = place_school(code)
    with use_school(code), transaction.atomic(using=alias):
        return _generate(code, n_students, seed, school_name, anomaly_rate)


def _generate(code: str, n_students: int, seed: int, school_name: str,
              anomaly_rate: float) -> GeneratedSchool:
    rng = np.random.default_rng(seed)
    school = School.objects.create(code=code, name=school_name)
    year = _academic_year()
    subjects = _subjects()

    prefix = code.upper()[:8]
    grades = rng.integers(7, 13, size=n_students)
    sections = rng.choice(list("ABCD"), size=n_students)
    genders = rng.choice(["F", "M"], size=n_students)
    firsts = rng.choice(FIRST_NAMES, size=n_students)
    lasts = rng.choice(LAST_NAMES, size=n_students)
    students = Student.objects.bulk_create(
        [
            Student(school=school, student_id=f"{prefix}-{i + 1:05d}", first_name=firsts[i],
                    last_name=lasts[i], grade=int(grades[i]),
                    class_name=f"{grades[i]}{sections[i]}", gender=genders[i])
            for i in range(n_students)
        ],
        batch_size=1000,
    )
    if any(s.pk is None for s in students):  # backends without RETURNING ids
        students = list(Student.objects.filter(school=school).order_by("student_id"))

    scores, anomalous = simulate_scores(rng, n_students, anomaly_rate)
    rows = []
    for i, student in enumerate(students):
        for j, subject in enumerate(subjects):
            for k, term in enumerate(TERMS):
                total = Decimal(str(scores[i, j, k]))
                ca = (total * Decimal(CA_SHARE)).quantize(Decimal("0.01"))
                rows.append(StudentScore(
                    student=student, subject=subject, academic_year=year, term=term,
                    continuous_assessment=ca, exam_score=total - ca, total_score=total))
    StudentScore.objects.bulk_create(rows, batch_size=5000)
    return GeneratedSchool(
        school=school, students=len(students), scores=len(rows),
        anomalous_student_ids=[students[i].student_id for i in anomalous],
    )
