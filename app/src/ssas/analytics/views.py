from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ssas.students.models import School, StudentScore
from ssas.students.scope import sees_every_student, visible_students

from .queries import class_averages


@login_required
def dashboard(request):
    students = visible_students(request.user)
    every = sees_every_student(request.user)
    context = {
        "school_count": School.objects.count() if every else
        students.values("school").distinct().count(),
        "student_count": students.count(),
        "score_count": StudentScore.objects.count() if every else
        StudentScore.objects.filter(student__in=students).count(),
        "averages": class_averages(students=None if every else students),
        "classes": [] if every else list(request.user.class_assignments.all()),
        "schools": School.objects.all() if every else
        School.objects.filter(pk__in=students.values("school")),
        "limited": not every,
    }
    return render(request, "analytics/dashboard.html", context)
