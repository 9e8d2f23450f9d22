from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ssas.students.models import School, Student, StudentScore

from .queries import class_averages


@login_required
def dashboard(request):
    context = {
        "school_count": School.objects.count(),
        "student_count": Student.objects.count(),
        "score_count": StudentScore.objects.count(),
        "averages": class_averages(),
    }
    return render(request, "analytics/dashboard.html", context)
