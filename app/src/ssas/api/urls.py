from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from . import views


class Router(DefaultRouter):
    """No `.json` twins of the routes: one URL per resource, so the load balancer's route
    classes (ML, API) see every route under the one path they match."""

    include_format_suffixes = False


router = Router()
router.register("students", views.StudentViewSet, basename="student")
router.register("schools", views.SchoolViewSet, basename="school")
router.register("academic-years", views.AcademicYearViewSet, basename="academic-year")
router.register("subjects", views.SubjectViewSet, basename="subject")
router.register("scores", views.ScoreViewSet, basename="score")
router.register("models/training", views.TrainingRunViewSet, basename="training-run")
router.register("reports", views.ReportViewSet, basename="report")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("class-averages/", views.ClassAveragesView.as_view(), name="class-averages"),
    path("anomalies/", views.AnomaliesView.as_view(), name="anomalies"),
    path("analysis/batch/", views.BatchAnalysisView.as_view(), name="batch-analysis"),
    path("analysis/batch/<uuid:job_id>/", views.BatchAnalysisDetailView.as_view(),
         name="batch-analysis-detail"),
    *router.urls,
]
