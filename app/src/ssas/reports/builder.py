"""Build report contents as CSV text."""

import csv
import io

from django.db.models import Avg, Count, FloatField

from ssas.analytics.queries import class_averages
from ssas.students.models import Student

from .models import Report


def _csv(header: list[str], rows) -> tuple[str, int]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    return buf.getvalue(), n


def build(report: Report) -> tuple[str, int]:
    grade = report.params.get("grade")
    if report.kind == Report.Kind.CLASS_AVERAGES:
        rows = class_averages(by_grade=True, school_id=report.school_id, grade=grade)
        return _csv(
            ["grade", "subject", "average", "students", "high_scores"],
            ([r["grade"], r["subject"], r["average"], r["students"], r["high_scores"]]
             for r in rows),
        )
    students = Student.objects.select_related("school")
    if report.school_id:
        students = students.filter(school_id=report.school_id)
    if grade is not None:
        students = students.filter(grade=grade)
    students = students.annotate(
        average=Avg("scores__total_score", output_field=FloatField()), n=Count("scores"))
    return _csv(
        ["student_id", "last_name", "first_name", "school", "grade", "class", "average", "scores"],
        ([s.student_id, s.last_name, s.first_name, s.school.code, s.grade, s.class_name,
          round(s.average, 2) if s.average is not None else "", s.n] for s in students.iterator()),
    )
