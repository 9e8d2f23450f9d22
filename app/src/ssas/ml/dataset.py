"""Turn score rows into a dense (student x subject x period) tensor for the estimators."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ssas.sharding.context import current, each_shard
from ssas.students.models import StudentScore, Subject


@dataclass
class ScoreTensor:
    student_ids: np.ndarray  # database ids, shape (n,)
    school_ids: np.ndarray  # shape (n,)
    subjects: list[str]  # subject codes, shape (s,)
    scores: np.ndarray  # float, NaN where missing, shape (n, s, p); periods oldest first
    subject_names: dict[str, str] = field(default_factory=dict)  # code -> name
    subject_areas: dict[str, str] = field(default_factory=dict)  # code -> admin's area

    @property
    def n_students(self) -> int:
        return len(self.student_ids)


def build_tensor(rows, subjects: list[str] | None = None) -> ScoreTensor:
    """rows: iterables of (student_id, school_id, subject_code, period_key, score)."""
    rows = list(rows)
    student_ids = sorted({r[0] for r in rows})
    school_of = {r[0]: r[1] for r in rows}
    if subjects is None:
        subjects = sorted({r[2] for r in rows})
    periods = sorted({r[3] for r in rows})
    s_idx = {sid: i for i, sid in enumerate(student_ids)}
    c_idx = {code: i for i, code in enumerate(subjects)}
    p_idx = {p: i for i, p in enumerate(periods)}
    scores = np.full((len(student_ids), len(subjects), len(periods)), np.nan)
    for student_id, _school, code, period, score in rows:
        if code in c_idx:
            scores[s_idx[student_id], c_idx[code], p_idx[period]] = float(score)
    return ScoreTensor(
        student_ids=np.array(student_ids, dtype=np.int64),
        school_ids=np.array([school_of[s] for s in student_ids], dtype=np.int64),
        subjects=list(subjects),
        scores=scores,
    )


def _shards():
    """The shards to read: the current one, or every shard for district-wide training
    (ids are disjoint between shards, so their rows combine into one tensor)."""
    return [None] if current() is not None else each_shard()


def load_tensor(*, school_id=None, student_ids=None, subjects=None) -> ScoreTensor:
    """One query (per shard) for all the scores needed; periods are (academic year start,
    term)."""
    def rows():
        for _ in _shards():
            qs = StudentScore.objects.all()
            if school_id is not None:
                qs = qs.filter(student__school_id=school_id)
            if student_ids is not None:
                qs = qs.filter(student_id__in=list(student_ids))
            for sid, school, code, start, term, score in qs.values_list(
                    "student_id", "student__school_id", "subject__code",
                    "academic_year__start_date", "term", "total_score",
            ).iterator(chunk_size=5000):
                yield sid, school, code, (start.toordinal(), term), score

    tensor = build_tensor(rows(), subjects)
    for _ in _shards():
        subjects_rows = Subject.objects.filter(code__in=tensor.subjects).values_list(
            "code", "name", "career_area")
        for code, name, area in subjects_rows:
            tensor.subject_names[code] = name
            if area:
                tensor.subject_areas[code] = area
    return tensor
