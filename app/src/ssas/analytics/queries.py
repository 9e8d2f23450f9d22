"""Aggregate queries: each is a single SQL query, whatever the number of students."""

from django.db.models import Avg, Count, FloatField, Q

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


def class_averages(*, by_grade: bool = False, **filters) -> list[dict]:
    fields = ["subject__code", "subject__name"]
    if by_grade:
        fields.insert(0, "student__grade")
    rows = (
        scores_filtered(**filters)
        .values(*fields)
        .annotate(
            average=Avg("total_score", output_field=FloatField()),
            students=Count("student", distinct=True),
            scores=Count("id"),
            high_scores=Count("id", filter=Q(total_score__gte=80)),
        )
        .order_by(*fields)
    )
    return [
        {
            **({"grade": r["student__grade"]} if by_grade else {}),
            "subject": r["subject__code"],
            "subject_name": r["subject__name"],
            "average": round(r["average"], 2),
            "students": r["students"],
            "scores": r["scores"],
            "high_scores": r["high_scores"],
        }
        for r in rows
    ]
