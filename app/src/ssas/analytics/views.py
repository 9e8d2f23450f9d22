from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ssas.sharding.context import each_shard
from ssas.students.models import School, StudentScore
from ssas.students.scope import sees_every_student, visible_students

from .queries import class_averages


def district_counts(user) -> dict:
    """School, student and score counts `user` may see, summed over every shard (the one
    database when not sharded), and those schools sorted by name."""
    every = sees_every_student(user)
    counts = {"school_count": 0, "student_count": 0, "score_count": 0}
    schools: list[School] = []
    for _ in each_shard():
        students = visible_students(user)
        counts["school_count"] += School.objects.count() if every else (
            students.values("school").distinct().count())
        counts["student_count"] += students.count()
        counts["score_count"] += StudentScore.objects.count() if every else (
            StudentScore.objects.filter(student__in=students).count())
        schools += list(School.objects.all() if every else
                        School.objects.filter(pk__in=students.values("school")))
    return {**counts, "schools": sorted(schools, key=lambda s: (s.name, s.code))}


@login_required
def dashboard(request):
    every = sees_every_student(request.user)
    context = {
        **district_counts(request.user),
        "averages": class_averages(students=None if every else visible_students(
            request.user)),
        "classes": [] if every else list(request.user.class_assignments.all()),
        "limited": not every,
    }
    return render(request, "analytics/dashboard.html", context)
