"""The pages staff use: school overview, class, student, and a batch analysis's progress.

Server-rendered; charts are drawn by the vendored Chart.js from JSON the page carries
(`json_script`), and each chart's numbers are also in a table beside it (screen readers,
printing). Every page shows only the students the user may see (ssas.students.scope):
another class's student is a 404 to a teacher.
"""

import math

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Avg, Count, F, FloatField, IntegerField
from django.db.models.functions import Cast, Floor, Least
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ssas.api.throttles import MLPageThrottle, MLThrottle
from ssas.ml import service
from ssas.ml.models import BatchJob
from ssas.ml.tasks import start_batch_job
from ssas.sharding.context import current
from ssas.students.models import School, StudentScore
from ssas.students.scope import sees_every_student, visible_students

from .queries import class_averages

BINS = [f"{10 * b}-{10 * b + 9}" if b < 9 else "90-100" for b in range(10)]


def _chart(kind: str, labels: list, datasets: list[tuple[str, list]], y_max=None) -> dict:
    return {"type": kind, "labels": labels, "y_max": y_max,
            "datasets": [{"label": label, "data": data} for label, data in datasets]}


def _ml(call, *args):
    """An ML answer, or None with the reason when the models are not trained yet."""
    try:
        return call(*args), ""
    except service.ModelUnavailable:
        return None, "The analysis models are not trained yet."
    except service.NoScores as exc:
        return None, str(exc)


def _ml_page_allowed(request) -> tuple[bool, str]:
    """Whether this page view may run its ML work (the user's `ml_page` limit), and if not
    the note shown in the analyses' place."""
    throttle = MLPageThrottle()
    if throttle.allow_request(request, None):
        return True, ""
    minutes = math.ceil((throttle.wait() or 60) / 60)
    return False, ("You have opened many analyses in the last hour; they show again in about "
                   f"{minutes} minute{'s' if minutes != 1 else ''}.")


@login_required
def school_overview(request, code):
    school = get_object_or_404(School, code=code)
    students = visible_students(request.user).filter(school=school)
    scores = StudentScore.objects.filter(student__in=students)
    bins = dict(scores.annotate(bin=Least(Cast(Floor(F("total_score") / 10), IntegerField()),
                                          9)).values_list("bin").annotate(n=Count("id")))
    distribution = [bins.get(b, 0) for b in range(10)]
    trend = list(scores.values("academic_year__name", "academic_year__start_date")
                 .annotate(average=Avg("total_score", output_field=FloatField()),
                           n=Count("id")).order_by("academic_year__start_date"))
    high = (students.annotate(average=Avg("scores__total_score", output_field=FloatField()))
            .filter(average__isnull=False).order_by("-average")[:10])
    classes = (students.values("grade", "class_name").annotate(n=Count("id"))
               .order_by("grade", "class_name"))
    allowed, ml_note = _ml_page_allowed(request)
    flagged = None
    if allowed:
        flagged, ml_note = _ml(service.detect_anomalies, school.pk)
    if flagged is not None:
        names = students.in_bulk([f["id"] for f in flagged])
        flagged = [{**f, "student": names[f["id"]]} for f in flagged if f["id"] in names]
    return render(request, "analytics/school.html", {
        "school": school, "student_count": students.count(), "score_count": scores.count(),
        "distribution": list(zip(BINS, distribution, strict=True)),
        "distribution_chart": _chart("bar", BINS, [("scores", distribution)]),
        "trend": trend,
        "trend_chart": _chart("line", [t["academic_year__name"] for t in trend],
                              [("average", [round(t["average"], 1) for t in trend])], 100),
        "high_scorers": high, "classes": classes, "anomalies": flagged, "ml_note": ml_note,
        "can_start_batch": sees_every_student(request.user) and request.user.has_perm(
            "students.add_student"),
    })


@login_required
def class_page(request, code, class_name):
    school = get_object_or_404(School, code=code)
    students = visible_students(request.user).filter(school=school, class_name=class_name)
    if not students.exists():
        raise Http404("no such class, or not one of yours")
    rows = students.annotate(average=Avg("scores__total_score", output_field=FloatField()),
                             scores_count=Count("scores")).order_by("last_name", "first_name")
    subjects = class_averages(school_id=school.pk, students=students)
    return render(request, "analytics/class.html", {
        "school": school, "class_name": class_name, "students": rows, "subjects": subjects,
        "subjects_chart": _chart("bar", [s["subject_name"] for s in subjects],
                                 [("average", [s["average"] for s in subjects])], 100),
    })


@login_required
def student_page(request, pk):
    student = get_object_or_404(visible_students(request.user).select_related("school"),
                                pk=pk)
    scores = list(student.scores.select_related("subject", "academic_year")
                  .order_by("academic_year__start_date", "term", "subject__name"))
    periods = list(dict.fromkeys((s.academic_year.name, s.term) for s in scores))
    subjects = list(dict.fromkeys(s.subject.name for s in scores))
    by_cell = {(s.subject.name, s.academic_year.name, s.term): float(s.total_score)
               for s in scores}
    over_time = _chart("line", [f"{year} T{term}" for year, term in periods],
                       [(name, [by_cell.get((name, *p)) for p in periods])
                        for name in subjects], 100)
    allowed, paused = _ml_page_allowed(request)
    prediction, prediction_note, careers, careers_note, peers = None, paused, None, paused, None
    if allowed:
        prediction, prediction_note = _ml(service.predict_performance, student.pk)
        careers, careers_note = _ml(service.recommend_careers, student.pk)
        peers, _ = _ml(service.find_peers, student.pk)
    if peers and not sees_every_student(request.user):
        visible = set(visible_students(request.user).filter(
            pk__in=[p["id"] for p in peers]).values_list("pk", flat=True))
        peers = [p for p in peers if p["id"] in visible]
    return render(request, "analytics/student.html", {
        "student": student, "scores": scores, "over_time_chart": over_time,
        "prediction": prediction, "prediction_note": prediction_note,
        "careers": careers, "careers_note": careers_note, "peers": peers,
    })


@require_POST
@permission_required("students.add_student", raise_exception=True)
def start_batch(request, code):
    """Enqueue a batch analysis of the school. Each start counts against the user's ML
    limit, the same count (cache and rate) as the API's ML routes: past it, a 429 page."""
    school = get_object_or_404(School, code=code)
    throttle = MLThrottle()
    if not throttle.allow_request(request, None):
        wait = math.ceil(throttle.wait() or 60)
        response = render(request, "analytics/throttled.html",
                          {"school": school, "minutes": math.ceil(wait / 60)}, status=429)
        response["Retry-After"] = str(wait)
        return response
    job = start_batch_job(school, request.user.get_username())
    response = redirect("batch-page", job_id=job.pk)
    if (here := current()) and here.school:  # sharded: the progress page names its school
        response["Location"] += f"?school={here.school}"
    return response


@login_required
def batch_page(request, job_id):
    job = get_object_or_404(BatchJob.objects.select_related("school"), pk=job_id)
    return render(request, "analytics/batch.html", {"job": job})
