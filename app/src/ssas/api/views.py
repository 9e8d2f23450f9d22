from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from ssas.analytics.queries import class_averages
from ssas.ml import service
from ssas.ml.models import BatchJob, TrainingRun
from ssas.ml.tasks import start_batch_job, start_training
from ssas.reports.models import Report
from ssas.reports.tasks import request_report
from ssas.sharding.context import current
from ssas.sharding.placement import creating_school
from ssas.students.models import AcademicYear, School, Student, StudentScore, Subject
from ssas.students.scope import sees_every_student, visible_students

from .permissions import TeachersMayRequest
from .serializers import (
    AcademicYearSerializer,
    BatchJobSerializer,
    BatchRequestSerializer,
    ReportSerializer,
    SchoolSerializer,
    ScoreSerializer,
    ScoreWriteSerializer,
    StudentSerializer,
    SubjectSerializer,
    TrainingRunSerializer,
)
from .throttles import MLThrottle, UserThrottle

# The ML routes: each user's general limit and the ML one (which also marks them as ML
# routes for the load balancer's ML location).
ML_THROTTLES = [UserThrottle, MLThrottle]


class ModelNotTrained(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The analysis models are not trained yet; run train_models."
    default_code = "model_not_trained"


def _ml(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except service.ModelUnavailable as exc:
        raise ModelNotTrained() from exc
    except service.NoScores as exc:
        raise NotFound(str(exc)) from exc


def _int_param(request, name):
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: "must be an integer"}) from None


def _school_param(request):
    """`?school=` as a school id: the id itself or the school's code; None when absent.

    Raises ValidationError (400) when no school has that id or code.
    """
    value = (request.query_params.get("school") or "").strip()
    if not value:
        return None
    lookup = {"pk": int(value)} if value.isdigit() else {"code": value}
    school_id = School.objects.filter(**lookup).values_list("pk", flat=True).first()
    if school_id is None:
        raise ValidationError({"school": f"no school has id or code '{value}'"})
    return school_id


class StudentViewSet(viewsets.ModelViewSet):
    serializer_class = StudentSerializer
    queryset = Student.objects.none()  # for the schema; get_queryset narrows per user

    def get_queryset(self):
        qs = visible_students(self.request.user, Student.objects.select_related("school"))
        params = self.request.query_params
        school = _school_param(self.request)
        if school is not None:
            qs = qs.filter(school_id=school)
        grade = _int_param(self.request, "grade")
        if grade is not None:
            qs = qs.filter(grade=grade)
        if params.get("class_name"):
            qs = qs.filter(class_name=params["class_name"])
        search = params.get("search", "").strip()
        if search:
            qs = qs.filter(Q(student_id__icontains=search) | Q(first_name__icontains=search)
                           | Q(last_name__icontains=search))
        return qs

    @action(detail=True)
    def scores(self, request, pk=None):
        student = self.get_object()
        scores = student.scores.select_related("subject", "academic_year").order_by(
            "academic_year__start_date", "term", "subject__code")
        return Response(ScoreSerializer(scores, many=True).data)

    @action(detail=True, throttle_classes=ML_THROTTLES)
    def careers(self, request, pk=None):
        student = self.get_object()
        return Response({"student": student.pk,
                         "recommendations": _ml(service.recommend_careers, student.pk)})

    @action(detail=True, throttle_classes=ML_THROTTLES)
    def peers(self, request, pk=None):
        student = self.get_object()
        peers = _ml(service.find_peers, student.pk)
        if not sees_every_student(request.user):
            # A teacher's peers list names only students the teacher may see.
            visible = set(visible_students(request.user).filter(
                pk__in=[p["id"] for p in peers]).values_list("pk", flat=True))
            peers = [p for p in peers if p["id"] in visible]
        return Response({"student": student.pk, "peers": peers})

    @action(detail=True, throttle_classes=ML_THROTTLES)
    def prediction(self, request, pk=None):
        student = self.get_object()
        return Response({"student": student.pk,
                         **_ml(service.predict_performance, student.pk)})


class SchoolViewSet(viewsets.ModelViewSet):
    """Schools: every role reads, admins write (RolePermission)."""

    queryset = School.objects.all()
    serializer_class = SchoolSerializer

    # Not a docstring: drf-spectacular would publish it as the operation's description.
    def create(self, request, *args, **kwargs):
        # Sharded: the new school is placed first (ssas.sharding.placement) and created on
        # its shard; a refused request leaves no placement behind.
        with creating_school(str(request.data.get("code") or "")):
            return super().create(request, *args, **kwargs)


class AcademicYearViewSet(viewsets.ModelViewSet):
    queryset = AcademicYear.objects.all()
    serializer_class = AcademicYearSerializer


class SubjectViewSet(viewsets.ModelViewSet):
    queryset = Subject.objects.all()
    serializer_class = SubjectSerializer


class ScoreViewSet(viewsets.ModelViewSet):
    """Scores of the students the user may see (filters: `school`, `student`, `subject`
    code, `academic_year` name, `term`); admins write."""

    serializer_class = ScoreWriteSerializer
    queryset = StudentScore.objects.none()  # for the schema; get_queryset narrows per user

    def get_queryset(self):
        scores = StudentScore.objects.filter(
            student__in=visible_students(self.request.user)).select_related(
            "subject", "academic_year").order_by("student_id", "academic_year__start_date",
                                                 "term", "subject__code")
        params = self.request.query_params
        school = _school_param(self.request)
        if school is not None:
            scores = scores.filter(student__school_id=school)
        student = _int_param(self.request, "student")
        if student is not None:
            scores = scores.filter(student_id=student)
        if params.get("subject"):
            scores = scores.filter(subject__code__iexact=params["subject"])
        if params.get("academic_year"):
            scores = scores.filter(academic_year__name=params["academic_year"])
        term = _int_param(self.request, "term")
        if term is not None:
            scores = scores.filter(term=term)
        return scores


_SCHOOL = OpenApiParameter("school", OpenApiTypes.STR, description="School id or code.")


class ClassAveragesView(APIView):
    @extend_schema(
        parameters=[_SCHOOL, OpenApiParameter("grade", OpenApiTypes.INT),
                    OpenApiParameter("class_name", OpenApiTypes.STR),
                    OpenApiParameter("academic_year", OpenApiTypes.INT)],
        responses=inline_serializer("ClassAverages", {"results": serializers.ListField(
            child=inline_serializer("SubjectAverage", {
                "subject": serializers.CharField(), "subject_name": serializers.CharField(),
                "average": serializers.FloatField(), "students": serializers.IntegerField(),
                "scores": serializers.IntegerField(),
                "high_scores": serializers.IntegerField()}))}))
    def get(self, request):
        rows = class_averages(
            school_id=_school_param(request),
            grade=_int_param(request, "grade"),
            academic_year_id=_int_param(request, "academic_year"),
            class_name=request.query_params.get("class_name") or None,
            students=None if sees_every_student(request.user) else visible_students(
                request.user),
        )
        return Response({"results": rows})


class AnomaliesView(APIView):
    throttle_classes = ML_THROTTLES

    @extend_schema(parameters=[_SCHOOL], responses=inline_serializer("Anomalies", {
        "results": serializers.ListField(child=serializers.DictField())}))
    def get(self, request):
        flagged = _ml(service.detect_anomalies, _school_param(request))
        students = visible_students(request.user).in_bulk([f["id"] for f in flagged])
        return Response({"results": [
            {**f, "student_id": students[f["id"]].student_id, "name": str(students[f["id"]])}
            for f in flagged if f["id"] in students
        ]})


class BatchAnalysisView(APIView):
    throttle_classes = ML_THROTTLES

    @extend_schema(request=BatchRequestSerializer, responses={202: inline_serializer(
        "BatchAccepted", {"job_id": serializers.UUIDField(), "status": serializers.CharField(),
                          "status_url": serializers.URLField()})})
    def post(self, request):
        req = BatchRequestSerializer(data=request.data)
        req.is_valid(raise_exception=True)
        job = start_batch_job(req.validated_data.get("school"), request.user.get_username())
        url = reverse("batch-analysis-detail", args=[job.pk], request=request)
        if (here := current()) and here.school:  # sharded: the status names its school
            url += f"?school={here.school}"
        return Response({"job_id": str(job.pk), "status": job.status, "status_url": url},
                        status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class BatchAnalysisDetailView(APIView):
    @extend_schema(responses=BatchJobSerializer)
    def get(self, request, job_id):
        return Response(BatchJobSerializer(get_object_or_404(BatchJob, pk=job_id)).data)


class TrainingRunViewSet(viewsets.GenericViewSet):
    """Model trainings: every role lists them (versions, metrics); admins start one
    (POST -> 202 with its status URL; the models retrain on a Celery worker)."""

    serializer_class = TrainingRunSerializer
    queryset = TrainingRun.objects.all()
    throttle_classes = ML_THROTTLES

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses={202: TrainingRunSerializer})
    def create(self, request):
        run = start_training(request.user.get_username())
        url = reverse("training-run-detail", args=[run.pk], request=request)
        return Response({**self.get_serializer(run).data, "status_url": url},
                        status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class ReportViewSet(viewsets.GenericViewSet):
    serializer_class = ReportSerializer
    queryset = Report.objects.all()
    permission_classes = [TeachersMayRequest]

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not sees_every_student(request.user):
            # Reports cover whole schools; a teacher's own classes are at /api/class-averages/.
            raise PermissionDenied("reports cover whole schools and teachers see their own "
                                   "classes only (/api/class-averages/); a counsellor or an "
                                   "admin can request one")
        report = request_report(
            serializer.validated_data["kind"], serializer.validated_data.get("school"),
            serializer.validated_data.get("params"), request.user.get_username())
        url = reverse("report-detail", args=[report.pk], request=request)
        return Response({**self.get_serializer(report).data, "status_url": url},
                        status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    def get_object(self):
        report = super().get_object()
        if not sees_every_student(self.request.user):  # whole-school data
            raise NotFound()
        return report

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @action(detail=True)
    def download(self, request, pk=None):
        report = self.get_object()
        if report.status != "done":
            raise NotFound("report is not ready")
        response = HttpResponse(report.content, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{report.kind}-{report.pk}.csv"'
        return response
