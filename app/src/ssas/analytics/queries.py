"""Aggregate queries: each is a single SQL query, whatever the number of students."""

from django.db.models import Avg, Count, FloatField, Q, Sum

from ssas.sharding.context import current, each_shard, enabled
from ssas.students.models import StudentScore


def scores_filtered(*, school_id=None, grade=None, academic_year_id=None, class_name=None,
                    students=None):
    """Scores narrowed by each filter given; `students` (a Student queryset) limits them to
    those students (a teacher's classes)."""
    qs = StudentScore.objects.all()
    if students is not None:
        qs = qs.filter(student__in=students)
    if school_id is not None:
        qs = qs.filter(student__school_id=school_id)
    if grade is not None:
        qs = qs.filter(student__grade=grade)
    if class_name:
        qs = qs.filter(student__class_name=class_name)
    if academic_year_id is not None:
        qs = qs.filter(academic_year_id=academic_year_id)
    return qs


def _average_rows(fields: list[str], **filters):
    return (
        scores_filtered(**filters)
        .values(*fields)
        .annotate(
            average=Avg("total_score", output_field=FloatField()),
            total=Sum("total_score", output_field=FloatField()),
            students=Count("student", distinct=True),
            scores=Count("id"),
            high_scores=Count("id", filter=Q(total_score__gte=80)),
        )
        .order_by(*fields)
    )


def _fields(by_grade: bool) -> list[str]:
    return ["student__grade", "subject__code", "subject__name"] if by_grade else [
        "subject__code", "subject__name"]


def _row(r: dict, by_grade: bool) -> dict:
    return {
        **({"grade": r["student__grade"]} if by_grade else {}),
        "subject": r["subject__code"],
        "subject_name": r["subject__name"],
        "average": round(r["average"], 2),
        "students": r["students"],
        "scores": r["scores"],
        "high_scores": r["high_scores"],
    }


def class_averages(*, by_grade: bool = False, **filters) -> list[dict]:
    """Per-subject (and per-grade) averages and counts of the filtered scores.

    Sharded with no current shard (no school named), the district-wide figures: summed
    over every shard (district_class_averages)."""
    if enabled() and current() is None:
        return district_class_averages(by_grade=by_grade, **filters)
    return [_row(r, by_grade) for r in _average_rows(_fields(by_grade), **filters)]


def district_class_averages(*, by_grade: bool = False, **filters) -> list[dict]:
    """class_averages over every shard: counts summed, averages weighted by score count
    (the same figures one database holding every school would give)."""
    fields = _fields(by_grade)
    merged: dict[tuple, dict] = {}
    for _ in each_shard():
        for r in _average_rows(fields, **filters):
            key = tuple(r[f] for f in fields)
            acc = merged.setdefault(key, {**{f: r[f] for f in fields}, "total": 0.0,
                                          "students": 0, "scores": 0, "high_scores": 0})
            for name in ("total", "students", "scores", "high_scores"):
                acc[name] += r[name]
    return [_row({**acc, "average": acc["total"] / acc["scores"]}, by_grade)
            for _, acc in sorted(merged.items())]
