from django.urls import path

from . import pages

urlpatterns = [
    path("schools/<slug:code>/", pages.school_overview, name="school-page"),
    path("schools/<slug:code>/classes/<str:class_name>/", pages.class_page, name="class-page"),
    path("schools/<slug:code>/batch/", pages.start_batch, name="batch-start"),
    path("students/<int:pk>/", pages.student_page, name="student-page"),
    path("analysis/batch/<uuid:job_id>/", pages.batch_page, name="batch-page"),
]
